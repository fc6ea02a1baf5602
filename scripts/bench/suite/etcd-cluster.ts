/**
 * A 3-member etcd cluster (Debian's etcd-server) on loopback, each member with its own data
 * dir, started and stopped by PID by the benchmark. etcd fsyncs its WAL on every commit, always.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../test/support/ports';
import { waitFor } from '../../../test/support/wait';

const ETCD = '/usr/bin/etcd';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  process: ChildProcess;
}

export class EtcdCluster {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-etcd-'));
  readonly members: EtcdMember[] = [];
  output = '';

  /** etcd's version line, installing etcd-server first when it is missing. */
  static ensureInstalled(repoRoot: string): string {
    execFileSync('bash', [join(repoRoot, 'scripts', 'infra', 'etcd.sh')], { stdio: 'inherit' });
    return execFileSync(ETCD, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  }

  static async start(size = 3): Promise<EtcdCluster> {
    const cluster = new EtcdCluster();
    const ports = [];
    for (let i = 1; i <= size; i += 1)
      ports.push({ client: await freePort(), peer: await freePort() });
    const initial = ports.map((p, i) => `e${i + 1}=http://127.0.0.1:${p.peer}`).join(',');
    const token = `parley-bench-${process.pid}-${Date.now()}`;
    ports.forEach((p, i) => {
      const name = `e${i + 1}`;
      const child = spawn(
        ETCD,
        [
          '--name',
          name,
          '--data-dir',
          join(cluster.dataDir, name),
          '--listen-client-urls',
          `http://127.0.0.1:${p.client}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${p.client}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${p.peer}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${p.peer}`,
          '--initial-cluster',
          initial,
          '--initial-cluster-token',
          token,
          '--initial-cluster-state',
          'new',
          '--logger',
          'zap',
          '--log-level',
          'error',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.on('data', (chunk: Buffer) => (cluster.output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (cluster.output += chunk.toString()));
      cluster.members.push({ name, clientUrl: `http://127.0.0.1:${p.client}`, process: child });
    });
    await waitFor(
      'every etcd member healthy',
      async () => {
        for (const member of cluster.members) {
          const response = await fetch(`${member.clientUrl}/health`).catch(() => undefined);
          const body = response?.ok ? ((await response.json()) as { health?: string }) : undefined;
          if (body?.health !== 'true') return undefined;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return cluster;
  }

  /** The client URL of the member that leads (maintenance status: its id is the leader's). */
  async leaderUrl(): Promise<string> {
    const leader = await waitFor(
      'an etcd leader',
      async () => {
        for (const member of this.members) {
          const status = await fetch(`${member.clientUrl}/v3/maintenance/status`, {
            method: 'POST',
            body: '{}',
          })
            .then((r) => r.json() as Promise<{ header?: { member_id?: string }; leader?: string }>)
            .catch(() => undefined);
          if (status?.leader && status.header?.member_id === status.leader) return member;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return leader.clientUrl;
  }

  pids(): Record<string, number> {
    return Object.fromEntries(this.members.map((m) => [`etcd-${m.name}`, m.process.pid!]));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async ({ process: child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }),
    );
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The body of an etcd v3 JSON-gateway put: key and value are base64. */
export function etcdPutBody(key: string, value: string): string {
  return JSON.stringify({
    key: Buffer.from(key).toString('base64'),
    value: Buffer.from(value).toString('base64'),
  });
}

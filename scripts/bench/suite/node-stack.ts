/**
 * The co-located Parley side of a REST benchmark: three node processes (apps/node), each with its
 * command-log replica (fsync on), crdt replica, gossip member and a decision-api that calls its
 * own replica in-process. The compiled output in dist/ (`npm run build` first), as a deployment
 * runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, waitForHttp } from '../../../test/support/app-process';
import { CLUSTER_SECRET } from '../../../test/support/command-log-cluster';
import { freePort } from '../../../test/support/ports';
import { waitFor } from '../../../test/support/wait';
import { BENCH_AGENT_KEY } from './parley-stack';

interface NodePorts {
  api: number;
  commandLog: number;
  rpc: number;
  peer: number;
  crdt: number;
  crdtPeer: number;
  gossip: number;
  gossipUdp: number;
}

export class NodeStack {
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-nodes-'));

  private constructor(
    private readonly ports: NodePorts[],
    readonly nodes: AppProcess[] = [],
  ) {}

  static async start(size = 3, extraEnv: Record<string, string> = {}): Promise<NodeStack> {
    const ports: NodePorts[] = [];
    for (let i = 0; i < size; i += 1)
      ports.push({
        api: await freePort(),
        commandLog: await freePort(),
        rpc: await freePort(),
        peer: await freePort(),
        crdt: await freePort(),
        crdtPeer: await freePort(),
        gossip: await freePort(),
        gossipUdp: await freePort(),
      });
    const stack = new NodeStack(ports);
    const at = (port: number) => `127.0.0.1:${port}`;
    ports.forEach((own, i) => {
      const others = ports.filter((_, j) => j !== i);
      stack.nodes.push(
        AppProcess.start('node', {
          RUN_COMPILED: 'true',
          PARLEY_NODE_ID: `n${i + 1}`,
          PARLEY_DATA_DIR: stack.dataDir,
          PARLEY_LOG_LEVEL: 'error',
          PARLEY_CLUSTER_SECRET: CLUSTER_SECRET,
          PARLEY_RPC_SECRET: CLUSTER_SECRET,
          PARLEY_HTTP_PORT: String(own.api),
          PARLEY_COMMAND_LOG__HTTP_PORT: String(own.commandLog),
          PARLEY_CRDT__HTTP_PORT: String(own.crdt),
          PARLEY_GOSSIP__HTTP_PORT: String(own.gossip),
          PARLEY_RPC_PORT: String(own.rpc),
          PARLEY_PEER_PORT: String(own.peer),
          PARLEY_PEERS: ports.map((p, j) => `n${j + 1}=${at(p.peer)}`).join(','),
          PARLEY_CRDT_PEER_PORT: String(own.crdtPeer),
          PARLEY_CRDT_PEERS: others.map((p) => at(p.crdtPeer)).join(','),
          PARLEY_GOSSIP_PORT: String(own.gossipUdp),
          PARLEY_GOSSIP_SEEDS: others.map((p) => at(p.gossipUdp)).join(','),
          PARLEY_API_KEYS: `agent:${BENCH_AGENT_KEY}`,
          PARLEY_COMMAND_LOG_NODES: others.map((p) => at(p.rpc)).join(','),
          PARLEY_CRDT_NODES: at(own.crdt),
          PARLEY_GOSSIP_NODES: at(own.gossip),
          PARLEY_RATE_LIMIT_PER_SECOND: '1000000',
          ...extraEnv,
        }),
      );
    });
    for (const own of ports) await waitForHttp(`http://${at(own.api)}/health/ready`, 200, 60_000);
    return stack;
  }

  /** The decision-api URL of the node whose replica leads (its writes take no network hop). */
  async leaderUrl(): Promise<string> {
    const leader = await waitFor(
      'a leader among the nodes',
      async () => {
        for (const own of this.ports) {
          const status = await fetch(`http://127.0.0.1:${own.commandLog}/v1/status`)
            .then((r) => r.json() as Promise<{ role?: string }>)
            .catch(() => undefined);
          if (status?.role === 'leader') return own;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return `http://127.0.0.1:${leader.api}`;
  }

  /** Every node's decision-api URL. */
  urls(): string[] {
    return this.ports.map((own) => `http://127.0.0.1:${own.api}`);
  }

  pids(): Record<string, number> {
    return Object.fromEntries(this.nodes.map((node, i) => [`node-${i + 1}`, node.child.pid!]));
  }

  headers(): Record<string, string> {
    return { authorization: `Bearer ${BENCH_AGENT_KEY}` };
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LocalCluster, repoRoot } from '../support/local-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `parley` CLI as a user runs it: the package's bin, a real process, a real cluster. */
describe('parley CLI against a running local cluster', () => {
  const cluster = new LocalCluster(1);
  const bin = join(repoRoot, 'bin', 'parley.js');

  const parley = (...args: string[]): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(bin, ['--url', cluster.api, '--data-dir', cluster.dataDir, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (...args: string[]) => {
    const run = await parley(...args, '--json');
    return { ...run, json: JSON.parse(run.stdout) as Record<string, unknown> };
  };

  beforeAll(async () => {
    cluster.start();
    await cluster.ready();
  });
  afterAll(() => cluster.dispose());

  it('status shows the replicas, the leader and the gossip members, as a table and as JSON', async () => {
    const table = await parley('status');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^leader n\d {3}term \d+/);
    expect(table.stdout).toMatch(/node\s+role\s+address\s+commit\s+applied/);
    for (const id of ['n1', 'n2', 'n3']) expect(table.stdout).toContain(id);
    const status = await json('status');
    expect(status.code).toBe(0);
    expect((status.json.nodes as unknown[]).length).toBe(3);
    expect(status.json.leader).toMatch(/^n[123]$/);
    expect(status.stdout).not.toContain(cluster.secrets().operatorKey);
  });

  it('kv put and get, with compare-and-set, and exit codes for not found and conflict', async () => {
    const put = await json('kv', 'put', 'colour', 'blue');
    expect(put.code).toBe(0);
    expect(put.json).toMatchObject({ key: 'colour', value: 'blue', version: 1 });
    const got = await json('kv', 'get', 'colour', '--consistency', 'linearizable');
    expect(got.json).toMatchObject({ value: 'blue', version: 1 });
    const human = await parley('kv', 'get', 'colour');
    expect(human.stdout).toMatch(/value\s+blue/);

    const conflict = await parley('kv', 'put', 'colour', 'red', '--if-version', '7');
    expect(conflict.code).toBe(4);
    expect(conflict.stderr).toMatch(/409/);
    expect((await json('kv', 'put', 'colour', 'red', '--if-version', '1')).json).toMatchObject({
      version: 2,
    });
    const missing = await parley('kv', 'get', 'no-such-key');
    expect(missing.code).toBe(3);
  });

  it('reserve: accepted, then a refusal exits 4 with the decision printed', async () => {
    const operator = cluster.secrets().operatorKey;
    expect(
      (
        await cluster.call('POST', '/v1/inventory/widget/restock', operator, {
          requestId: 'cli-restock',
          quantity: 3,
        })
      ).status,
    ).toBe(200);
    const accepted = await json('reserve', 'widget', '2', '--order', 'o-1');
    expect(accepted.code).toBe(0);
    expect(accepted.json).toMatchObject({ status: 'accepted', available: 1 });
    const refused = await json('reserve', 'widget', '2', '--order', 'o-2');
    expect(refused.code).toBe(4);
    expect(refused.json).toMatchObject({ status: 'rejected', available: 1 });
    // The same request id again is the same decision, not a second reservation.
    const again = await json('reserve', 'widget', '1', '--order', 'o-3', '--request-id', 'r-3');
    const replay = await json('reserve', 'widget', '1', '--order', 'o-3', '--request-id', 'r-3');
    expect(again.json).toMatchObject({ status: 'accepted', available: 0 });
    expect(replay.json).toMatchObject({ status: 'accepted', available: 0 });
  });

  it('--async accepts now; request follows it to the decision, with its exit code', async () => {
    const operator = cluster.secrets().operatorKey;
    await cluster.call('POST', '/v1/inventory/gadget/restock', operator, {
      requestId: 'cli-restock-gadget',
      quantity: 1,
    });
    const accepted = await json(
      'reserve',
      'gadget',
      '2',
      '--order',
      'o-async',
      '--request-id',
      'cli-async-1',
      '--async',
    );
    expect(accepted.code).toBe(0);
    expect(accepted.json).toEqual({ requestId: 'cli-async-1', state: 'pending' });
    const decided = await waitFor('cli-async-1 decided', async () => {
      const run = await json('request', 'cli-async-1');
      return run.code === 7 ? undefined : run;
    });
    // Two of one in stock: the decision is a refusal, exit 4 as the synchronous reserve.
    expect(decided.code).toBe(4);
    expect(decided.json).toMatchObject({ status: 'rejected', reason: 'out-of-stock' });
    expect((await parley('request', 'cli-never-sent')).code).toBe(3);
    const status = await parley('status');
    expect(status.stdout).toMatch(/^outbox idle {3}0 request\(s\) waiting$/m);
  });

  it('vote counts an agent once', async () => {
    const agent = cluster.secrets().agentKey;
    expect(
      (
        await cluster.call('POST', '/v1/proposals', agent, {
          requestId: 'cli-proposal',
          proposalId: 'lunch',
          options: ['pizza', 'sushi'],
          policy: {
            kind: 'majority',
            voters: ['a1', 'a2', 'a3'],
            deadlineMs: 60_000,
            onDeadline: 'reject',
          },
        })
      ).status,
    ).toBe(201);
    const first = await json('vote', 'lunch', 'pizza', '--agent', 'a1');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ counted: true, status: 'open' });
    const decided = await json('vote', 'lunch', 'pizza', '--agent', 'a2');
    expect(decided.json).toMatchObject({ counted: true, status: 'decided', outcome: 'pizza' });
  });

  it('members add and remove, and removing a stranger is not found', async () => {
    const added = await json('members', 'add', 'n9', '127.0.0.1:9', '--learner');
    expect(added.code).toBe(0);
    expect(added.json).toMatchObject({ status: 'applied' });
    const members = async () =>
      (await json('status')).json.members as { voters: string[]; learners: string[] };
    expect((await members()).learners).toContain('n9');
    expect((await parley('status')).stdout).toMatch(/learners n9/);
    expect((await json('members', 'remove', 'n9')).code).toBe(0);
    expect((await members()).learners).not.toContain('n9');
    const stranger = await parley('members', 'remove', 'n42');
    expect(stranger.code).toBe(3);
  });

  it('transfer-leadership moves the leader to the named node', async () => {
    const before = (await json('status')).json.leader as string;
    const target = ['n1', 'n2', 'n3'].find((id) => id !== before)!;
    const moved = await json('transfer-leadership', '--to', target);
    expect(moved.code).toBe(0);
    expect(moved.json).toMatchObject({ status: 'accepted', to: target });
    await waitFor('the new leader', async () => {
      const status = await json('status');
      return status.json.leader === target ? true : undefined;
    });
  });

  it('snapshot takes one on the leader and reports its index', async () => {
    const taken = await json('snapshot');
    expect(taken.code).toBe(0);
    expect(taken.json.index).toEqual(expect.any(Number));
    expect(taken.json.index as number).toBeGreaterThan(0);
    const status = await json('status');
    // It was taken on the leader, whichever replica decision-api asked first.
    expect(taken.json.node).toBe(status.json.leader);
    const leader = (status.json.nodes as { id: string; snapshotIndex: number }[]).find(
      (n) => n.id === taken.json.node,
    )!;
    expect(leader.snapshotIndex).toBeGreaterThanOrEqual(taken.json.index as number);
  });

  it('bench runs a bounded load and prints throughput and percentiles', async () => {
    const result = await json('bench', '--requests', '200', '--concurrency', '8');
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ workload: 'put', ok: 200, failed: 0 });
    expect(result.json.perSecond as number).toBeGreaterThan(0);
    expect(result.json.p99Ms as number).toBeGreaterThanOrEqual(result.json.p50Ms as number);
    const eventual = await json('bench', '--workload', 'increment', '--requests', '100');
    expect(eventual.json).toMatchObject({ workload: 'increment', ok: 100, failed: 0 });
  });

  it('watch prints committed decisions from an index, filtered, and stops after --count', async () => {
    const agent = cluster.secrets().agentKey;
    for (const value of ['one', 'two'])
      expect(
        (
          await cluster.call('PUT', '/v1/kv/watch-cli', agent, {
            requestId: `watch-cli-${value}`,
            value,
          })
        ).status,
      ).toBe(200);
    const lines = await parley('watch', '--from', '0', '--prefix', 'kv/watch-cli', '--count', '2');
    expect(lines.code).toBe(0);
    expect(lines.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^\d+ {2}kv\.put {2}kv\/watch-cli {2}ok$/),
      expect.stringMatching(/^\d+ {2}kv\.put {2}kv\/watch-cli {2}ok$/),
    ]);
    const jsonLines = await parley(
      'watch',
      '--from',
      '0',
      '--prefix',
      'kv/watch-cli',
      '--count',
      '2',
      '--json',
    );
    const events = jsonLines.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => e.result.value)).toEqual(['one', 'two']);
    const bad = await parley('watch', '--from', 'yesterday');
    expect(bad.code).toBe(2);
  });

  it('exit codes: usage 2, unauthorized 6, unreachable 5', async () => {
    expect((await parley('frobnicate')).code).toBe(2);
    expect((await parley('kv', 'get')).code).toBe(2);
    expect((await parley('status', '--no-such-option')).code).toBe(2);
    expect((await parley('reserve', 'widget', 'many', '--order', 'o')).code).toBe(2);
    const wrongKey = await parley('status', '--key', 'not-a-key');
    expect(wrongKey.code).toBe(6);
    expect(wrongKey.stderr).toMatch(/401/);
    // An agent key may not run the cluster: 403.
    expect((await parley('snapshot', '--key', cluster.secrets().agentKey)).code).toBe(6);
    const nobody = await parley('status', '--url', 'http://127.0.0.1:9');
    expect(nobody.code).toBe(5);
    expect(nobody.stderr).toMatch(/cannot reach/);
    const errorJson = await json('kv', 'get', 'no-such-key');
    expect(errorJson.json).toMatchObject({ exitCode: 3 });
  });
});

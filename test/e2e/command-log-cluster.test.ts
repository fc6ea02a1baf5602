import { PROPOSE_BATCH_MAX, RPC } from '@parley/command-log-api';
import type {
  ProposeBatchResponse,
  ProposeResponse,
  ReadBatchResponse,
  ReadResponse,
} from '@parley/command-log-api';
import { CommandLogCluster } from '../support/command-log-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** Writes through whichever node leads now, following not-leader answers; bounded attempts. */
async function put(
  cluster: CommandLogCluster,
  key: string,
  value: string,
): Promise<ProposeResponse> {
  let target = await cluster.waitForLeader();
  for (let attempt = 0; attempt < 20; attempt += 1) {
    let response: ProposeResponse;
    try {
      response = await cluster.rpc<ProposeResponse>(target, RPC.propose, {
        // The same requestId on every retry: the state machine applies it once.
        command: { type: 'kv.put', requestId: `put-${key}`, key, value },
      });
    } catch {
      target = await cluster.waitForLeader();
      continue;
    }
    if (response.status === 'applied') return response;
    if (response.status === 'not-leader' && response.leaderId) target = response.leaderId;
    else target = await cluster.waitForLeader();
  }
  throw new Error(`could not write ${key}`);
}

async function get(
  cluster: CommandLogCluster,
  id: string,
  key: string,
  consistency: 'linearizable' | 'stale' = 'linearizable',
) {
  return cluster.rpc<ReadResponse>(id, RPC.read, { query: { type: 'kv.get', key }, consistency });
}

describe('command-log: three replica processes on loopback', () => {
  let cluster: CommandLogCluster;
  afterEach(async () => cluster?.stop());

  it('elects a leader, commits writes and serves linearizable reads', async () => {
    cluster = await CommandLogCluster.create(3);
    const leader = await cluster.waitForLeader();
    const written = await put(cluster, 'greeting', 'hello');
    expect(written).toMatchObject({
      status: 'applied',
      result: {
        replayed: false,
        result: { status: 'ok', key: 'greeting', value: 'hello', version: 1 },
      },
    });
    const read = await get(cluster, leader, 'greeting');
    expect(read).toMatchObject({
      status: 'ok',
      result: { found: true, value: { value: 'hello', version: 1 } },
    });
    const follower = cluster.replicas.find((r) => r.id !== leader)!.id;
    expect(await get(cluster, follower, 'greeting')).toMatchObject({
      status: 'not-leader',
      leaderId: leader,
    });
  });

  it("answers a propose-batch one proposal at a time, in order, sharing the leader's fsyncs", async () => {
    cluster = await CommandLogCluster.create(3);
    // Written once and read back, so the leader is settled before the batch.
    await put(cluster, 'before-batch', 'x');
    const leader = await cluster.waitForLeader();
    const syncsBefore = (await cluster.status(leader))!.walSyncs as number;
    const proposals = Array.from({ length: 200 }, (_, n) => ({
      command:
        n === 7
          ? { type: 'kv.put', requestId: 'batch-bad', key: '', value: 'no key' }
          : {
              type: 'kv.put',
              requestId: `batch-${n % 100}`,
              key: `batch/${n % 100}`,
              value: `v${n % 100}`,
            },
    }));
    const answer = await cluster.rpc<ProposeBatchResponse>(leader, RPC.proposeBatch, {
      proposals,
    });
    if (answer.status !== 'answered') throw new Error(`batch refused: ${JSON.stringify(answer)}`);
    expect(answer.answers).toHaveLength(200);
    expect(answer.answers[7]).toMatchObject({ status: 'rejected' });
    // Proposals 100..199 repeat the requestIds of 0..99: each is applied once (a replay).
    expect(answer.answers[3]).toMatchObject({ status: 'applied', result: { replayed: false } });
    expect(answer.answers[103]).toMatchObject({ status: 'applied', result: { replayed: true } });
    const read = await get(cluster, leader, 'batch/3');
    expect(read).toMatchObject({ status: 'ok', result: { value: { value: 'v3', version: 1 } } });
    const syncs = ((await cluster.status(leader))!.walSyncs as number) - syncsBefore;
    expect(syncs).toBeLessThan(20);
    // Too many proposals, or not the leader: the whole batch is refused with the reason.
    const tooMany = Array.from({ length: PROPOSE_BATCH_MAX + 1 }, () => proposals[0]);
    expect(await cluster.rpc(leader, RPC.proposeBatch, { proposals: tooMany })).toMatchObject({
      status: 'rejected',
    });
    const follower = cluster.replicas.find((r) => r.id !== leader)!.id;
    expect(
      await cluster.rpc(follower, RPC.proposeBatch, { proposals: proposals.slice(0, 1) }),
    ).toEqual({ status: 'not-leader', leaderId: leader });

    // A read-batch: the leader answers every read (one read point for all), in order; a
    // follower answers stale reads but redirects a batch holding any leader read.
    const reads = [
      { query: { type: 'kv.get', key: 'batch/1' }, consistency: 'linearizable' },
      { query: { type: 'kv.get', key: 'batch/2' }, consistency: 'lease' },
      { query: { type: 'kv.get', key: 'nothing' }, consistency: 'linearizable' },
      { query: { type: 'kv.get', key: 'batch/4' }, consistency: 'linearizable', minIndex: 1e9 },
    ];
    const readAnswer = await cluster.rpc<ReadBatchResponse>(leader, RPC.readBatch, { reads });
    if (readAnswer.status !== 'answered') throw new Error(JSON.stringify(readAnswer));
    expect(readAnswer.answers).toMatchObject([
      { status: 'ok', result: { found: true, value: { value: 'v1', version: 1 } } },
      { status: 'ok', result: { found: true, value: { value: 'v2', version: 1 } } },
      { status: 'ok', result: { found: false } },
      { status: 'beyond-log' },
    ]);
    expect(await cluster.rpc(follower, RPC.readBatch, { reads })).toEqual({
      status: 'not-leader',
      leaderId: leader,
    });
    const stale = await cluster.rpc<ReadBatchResponse>(follower, RPC.readBatch, {
      reads: [{ query: { type: 'kv.get', key: 'batch/1' }, consistency: 'stale', minIndex: 1 }],
      timeoutMs: 5_000,
    });
    expect(stale).toMatchObject({
      status: 'answered',
      answers: [{ status: 'ok', result: { found: true, value: { value: 'v1' } } }],
    });
  });

  it('keeps every acknowledged write through kill -9 of the leader and then of a follower', async () => {
    cluster = await CommandLogCluster.create(3);
    const acknowledged = new Map<string, string>();
    const writeBatch = async (from: number, count: number) => {
      // Concurrent writers in waves of 25, so the leader batches them.
      for (let start = from; start < from + count; start += 25) {
        const wave = [];
        for (let i = start; i < Math.min(start + 25, from + count); i += 1) {
          wave.push(
            put(cluster, `k${i}`, `v${i}`).then(
              (r) => r.status === 'applied' && acknowledged.set(`k${i}`, `v${i}`),
            ),
          );
        }
        await Promise.all(wave);
      }
    };
    await writeBatch(0, 400);
    const firstLeader = await cluster.waitForLeader();
    await cluster.kill(firstLeader);
    await writeBatch(400, 300);
    const secondLeader = await cluster.waitForLeader();
    expect(secondLeader).not.toBe(firstLeader);
    const follower = cluster.replicas.find((r) => r.process && r.id !== secondLeader)!.id;
    cluster.start(firstLeader); // the old leader comes back and replays its WAL
    await cluster.kill(follower);
    await writeBatch(700, 300);
    cluster.start(follower);
    expect(acknowledged.size).toBe(1000);
    const leader = await cluster.waitForLeader();
    for (const [key, value] of acknowledged) {
      const read = await get(cluster, leader, key);
      expect(read).toMatchObject({ status: 'ok', result: { found: true, value: { value } } });
    }
    // Every replica converges on the same applied state.
    const leaderStatus = await cluster.status(leader);
    await waitFor('every replica to apply everything', async () => {
      const statuses = await Promise.all(cluster.replicas.map((r) => cluster.status(r.id)));
      return statuses.every((s) => s && s.appliedIndex >= leaderStatus!.commitIndex)
        ? true
        : undefined;
    });
    for (const replica of cluster.replicas) {
      const stale = await get(cluster, replica.id, 'k999', 'stale');
      expect(stale).toMatchObject({
        status: 'ok',
        result: { found: true, value: { value: 'v999' } },
      });
    }
  });
});

import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { breakerStates } from '@parley/resilience';
import {
  OLDER_REPLICA_SECRET,
  OlderReplicaController,
  OlderReplicaModule,
} from '../../../../test/support/older-replica';
import { freePort } from '../../../../test/support/ports';
import {
  SCRIPTED_REPLICA_SECRET,
  startScriptedReplicas,
} from '../../../../test/support/scripted-replica';
import { waitFor } from '../../../../test/support/wait';
import { CommandLogClient, temporaryRefusal } from './command-log-client';
import { ClusterRefused, temporarilyRefused } from './outcomes';
import { problemFor } from '../http/outcome-to-problem';

describe('CommandLogClient against a replica that predates batches (rolling upgrade)', () => {
  let replica: INestMicroservice;
  let client: CommandLogClient;
  let address: string;
  let older: OlderReplicaController;

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    replica = await NestFactory.createMicroservice(OlderReplicaModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await replica.listen();
    older = replica.get(OlderReplicaController);
    client = new CommandLogClient([address], OLDER_REPLICA_SECRET, 2_000);
  });

  afterAll(async () => {
    await client.onApplicationShutdown();
    await replica.close();
  });

  it('sends proposals one by one when the batch pattern is unknown, and every one is answered', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const applied = await Promise.all(
      keys.map((key) => client.propose({ type: 'kv.put', key, value: 'v', requestId: key })),
    );
    expect(applied.map((a) => a.result.key)).toEqual(keys);
    // Each proposal reached the replica exactly once: the refused batch did nothing there.
    expect([...older.proposals].sort()).toEqual([...keys].sort());
  });

  it('reads one by one too, linearizable through the leader and stale from any replica', async () => {
    const linearizable = await client.read({ type: 'kv.get', key: 'a' }, 'linearizable');
    const stale = await client.read({ type: 'kv.get', key: 'b' }, 'stale');
    expect(linearizable).toMatchObject({ index: 7, result: { found: true, value: 'a' } });
    expect(stale).toMatchObject({ index: 7, result: { found: true, value: 'b' } });
    expect(older.reads).toEqual(['linearizable:a', 'stale:b']);
  });

  it('does not count an unknown pattern against the replica: its breaker stays closed', () => {
    expect(breakerStates()[`command-log-${address}`]).toBe('closed');
  });
});

describe('CommandLogClient when a replica is paused (SIGSTOP: it takes requests, answers nothing)', () => {
  let replicas: Awaited<ReturnType<typeof startScriptedReplicas>>;
  let client: CommandLogClient;
  const [n1, n2, n3] = [0, 1, 2];

  /** A long commit timeout: only the liveness probe can free a request held at a frozen replica. */
  const connect = (commitTimeoutMs = 60_000) =>
    new CommandLogClient(
      replicas.addresses,
      SCRIPTED_REPLICA_SECRET,
      commitTimeoutMs,
      undefined,
      1,
      {
        silentAfterMs: 50,
        probeTimeoutMs: 50,
        suspectProbeIntervalMs: 25,
      },
    );
  const put = (requestId: string) =>
    client.propose({ type: 'kv.put', key: 'k', value: requestId, requestId });
  /**
   * The first proposal goes to n1 in turn; the second to n2, whose not-leader hint makes the
   * client learn that n1 leads: the proposals after them go straight to n1.
   */
  const learnLeader = async () => {
    await put('warm-up-1');
    await put('warm-up-2');
  };

  beforeEach(async () => {
    replicas = await startScriptedReplicas(['n1', 'n2', 'n3']);
    client = connect();
  });

  afterEach(async () => {
    await client.onApplicationShutdown();
    await replicas.close();
  });

  /** n2 wins the election: it leads and the others name it. */
  const electN2 = () => {
    for (const replica of replicas.replicas) replica.leader = 'n2';
    replicas.replicas[n2].role = 'leader';
  };

  it('sends a proposal held at a paused leader again to the new leader, with the same requestId', async () => {
    await learnLeader();
    const asked = () =>
      replicas.replicas[n2].notLeaderAnswers + replicas.replicas[n3].notLeaderAnswers;
    const askedBefore = asked();
    replicas.replicas[n1].freeze();
    const answer = put('p1');
    await waitFor('p1 at the paused leader', () =>
      replicas.replicas[n1].proposalsReceived.includes('p1') ? true : undefined,
    );
    // The followers name the paused leader until they elect another: the client waits for it.
    await waitFor('a follower asked while n1 is paused', () =>
      asked() > askedBefore ? true : undefined,
    );
    electN2();
    await expect(answer).resolves.toMatchObject({
      result: { appliedBy: 'n2', requestId: 'p1' },
    });
    // The batch slot held at the frozen replica does not hold the next proposals.
    const next = await Promise.all(['p2', 'p3'].map(put));
    expect(next.map((a) => a.result.appliedBy)).toEqual(['n2', 'n2']);
  });

  // The client's deadline is 2 × the commit timeout + 2 s; the test waits it out, hence its bound.
  it('says the outcome is unknown when no new leader appears in time: the paused one may have the command', async () => {
    await client.onApplicationShutdown();
    client = connect(100);
    await learnLeader();
    replicas.replicas[n1].freeze();
    const error = await put('p-unknown').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterRefused);
    expect((error as ClusterRefused).outcome.kind).toBe('outcome-unknown');
    expect(replicas.replicas[n1].proposalsReceived).toContain('p-unknown');
  }, 20_000);

  it('moves a proposal on when its leader, cut off, answers its probe as a follower', async () => {
    await learnLeader();
    replicas.replicas[n1].holdRequests();
    const answer = put('p-cut-off');
    await waitFor('p-cut-off at the cut-off leader', () =>
      replicas.replicas[n1].proposalsReceived.includes('p-cut-off') ? true : undefined,
    );
    // The others elected n2; n1 (check-quorum) stepped down and knows it, but never answers p.
    electN2();
    replicas.replicas[n1].role = 'follower';
    await expect(answer).resolves.toMatchObject({
      result: { appliedBy: 'n2', requestId: 'p-cut-off' },
    });
  });

  it('proposes again when a leader handing over refuses a proposal, and answers once one leads', async () => {
    await learnLeader();
    // The refusal says nothing was appended: the same requestId goes again, no 400, no 504.
    replicas.replicas[n1].batchesToRefuse = 2;
    await expect(put('p-transfer')).resolves.toMatchObject({
      result: { appliedBy: 'n1', requestId: 'p-transfer' },
    });
    expect(
      replicas.replicas[n1].proposalsReceived.filter((id) => id === 'p-transfer'),
    ).toHaveLength(3);
  });

  it('says unavailable, retry after a second, when the leader keeps refusing: the command was never appended', async () => {
    await learnLeader();
    replicas.replicas[n1].batchesToRefuse = Infinity;
    const error = await put('p-refused').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterRefused);
    expect((error as ClusterRefused).outcome).toMatchObject({
      kind: 'unavailable',
      retryAfterS: 1,
    });
  });

  it('serves stale reads from the other replicas while one is paused', async () => {
    replicas.replicas[n2].freeze();
    const answers: unknown[] = [];
    for (let i = 0; i < 9; i += 1)
      answers.push((await client.read({ type: 'kv.get', key: 'k' }, 'stale')).result);
    expect(answers).not.toContainEqual({ readFrom: 'n2' });
    // The paused replica held one batch at most, then was skipped while suspect.
    expect(replicas.replicas[n2].staleReadsReceived).toBeLessThanOrEqual(1);
  });

  it('moves linearizable reads to the new leader', async () => {
    replicas.replicas[n1].freeze();
    const read = client.read({ type: 'kv.get', key: 'k' }, 'linearizable');
    await waitFor('a follower asked while n1 is paused', () =>
      replicas.replicas[n3].notLeaderAnswers + replicas.replicas[n2].notLeaderAnswers > 0
        ? true
        : undefined,
    );
    electN2();
    await expect(read).resolves.toMatchObject({ result: { readFrom: 'n2' } });
  });
});

describe('temporary refusals (back-pressure, leadership transfer)', () => {
  it('are the unavailable answers, and rejected ones with those reasons from older replicas', () => {
    expect(temporaryRefusal({ status: 'unavailable', reason: 'too-many-pending' })).toBe(
      'too-many-pending',
    );
    for (const reason of ['too-large', 'transferring-leadership', 'too-many-pending'])
      expect(temporaryRefusal({ status: 'rejected', reason })).toBe(reason);
    expect(temporaryRefusal({ status: 'rejected', reason: 'command must be an object' })).toBe(
      undefined,
    );
    expect(temporaryRefusal({ status: 'dropped' })).toBeUndefined();
  });

  it('answer 503 with Retry-After, so clients and the Kafka consumer retry them', () => {
    const problem = problemFor(temporarilyRefused('transferring-leadership').outcome);
    expect(problem.getStatus()).toBe(503);
    expect(problem.extra).toMatchObject({ retryAfterSeconds: 1, type: 'transferring-leadership' });
  });
});

describe('CommandLogClient in a node process (its own replica in-process)', () => {
  /** A replica in this process that holds each propose-batch until told to answer it. */
  function heldLocalReplica(role: 'leader' | 'follower') {
    const batches: { commands: string[]; answer: () => void }[] = [];
    const calls: string[] = [];
    return {
      batches,
      calls,
      call: (pattern: string, body: object): Promise<unknown> => {
        calls.push(pattern);
        if (pattern !== 'command-log.propose-batch')
          return Promise.resolve({ id: 'n1', role, leader: role === 'leader' ? 'n1' : null });
        const proposals = (body as { proposals: { command: { requestId: string } }[] }).proposals;
        if (role !== 'leader') return Promise.resolve({ status: 'not-leader', leaderId: null });
        return new Promise((resolve) =>
          batches.push({
            commands: proposals.map((p) => p.command.requestId),
            answer: () =>
              resolve({
                status: 'answered',
                answers: proposals.map((p, i) => ({
                  status: 'applied',
                  index: i + 1,
                  result: { result: { requestId: p.command.requestId }, replayed: false },
                })),
              }),
          }),
        );
      },
    };
  }
  const put = (requestId: string) => ({ type: 'kv.put', key: requestId, value: 'v', requestId });
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it('calls its own replica without a secret or a socket, and keeps several batches out to it once it leads', async () => {
    const local = heldLocalReplica('leader');
    // No other replica and no RPC secret: the one replica is in-process.
    const client = new CommandLogClient(
      [],
      undefined,
      2_000,
      undefined,
      1,
      undefined,
      undefined,
      local,
    );
    try {
      expect(client.configured).toBe(true);
      const first = client.propose(put('a'));
      await waitFor('the first batch', () => (local.batches.length === 1 ? true : undefined));
      local.batches[0].answer();
      expect((await first).result).toEqual({ requestId: 'a' });
      // It answered as the leader: the next batches leave without waiting for each other,
      // where one out at a time (PARLEY_RPC_BATCHES_IN_FLIGHT=1) would hold the second.
      const second = client.propose(put('b'));
      await nextTurn();
      const third = client.propose(put('c'));
      await waitFor('two batches out at once', () =>
        local.batches.length === 3 ? true : undefined,
      );
      expect(local.batches.map((batch) => batch.commands)).toEqual([['a'], ['b'], ['c']]);
      local.batches.forEach((batch) => batch.answer());
      await Promise.all([second, third]);
    } finally {
      await client.onApplicationShutdown();
    }
  });
});

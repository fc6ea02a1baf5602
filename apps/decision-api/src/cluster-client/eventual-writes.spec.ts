import { CrdtWrite } from '@parley/crdt';
import { ClusterRefused, unavailable } from './outcomes';
import { problemFor } from '../http/outcome-to-problem';
import { EVENTUAL_WRITES_QUEUED_MAX, EventualWrites } from './eventual-writes';

type Answer = { status: number; json: unknown };

/** A crdt replica stand-in that records each call and answers as told. */
function replica(answer: (writes: CrdtWrite[]) => Answer | Promise<Answer>) {
  const calls: { method: string; path: string; writes: CrdtWrite[] }[] = [];
  return {
    calls,
    call: async (method: string, path: string, body?: unknown) => {
      const { writes } = body as { writes: CrdtWrite[] };
      calls.push({ method, path, writes });
      return answer(writes);
    },
  };
}

const increment = (name: string): CrdtWrite => ({ op: 'increment', name, delta: 1 });
const accepted = (writes: CrdtWrite[]): Answer => ({
  status: 200,
  json: { answers: writes.map(() => ({ status: 202 })) },
});

describe('EventualWrites', () => {
  it('sends the writes of concurrent callers as one call and gives each its own answer', async () => {
    const crdt = replica((writes) => ({
      status: 200,
      json: {
        answers: writes.map((w) =>
          w.name === 'full' ? { status: 507, message: 'no room' } : { status: 202 },
        ),
      },
    }));
    const writes = new EventualWrites(crdt, { batchMax: 200, inFlightMax: 2 });
    const answers = await Promise.all(
      ['a', 'full', 'b'].map((name) => writes.submit(increment(name))),
    );
    expect(crdt.calls).toEqual([
      { method: 'POST', path: '/v1/crdt/writes', writes: ['a', 'full', 'b'].map(increment) },
    ]);
    expect(answers).toEqual([
      { status: 202 },
      { status: 507, message: 'no room' },
      { status: 202 },
    ]);
  });

  it('in a node process, hands the batch to its own replica in-process, never over HTTP', async () => {
    const crdt = replica(accepted);
    const batches: CrdtWrite[][] = [];
    const local = {
      writes: async (body: { writes: CrdtWrite[] }) => {
        batches.push(body.writes);
        return {
          answers: body.writes.map((w) =>
            w.name === 'full'
              ? { status: 507 as const, message: 'no room' }
              : { status: 202 as const },
          ),
        };
      },
    };
    const writes = new EventualWrites(crdt, { batchMax: 200, inFlightMax: 1 }, local);
    const answers = await Promise.all(['a', 'full'].map((name) => writes.submit(increment(name))));
    expect({ batches, httpCalls: crdt.calls }).toEqual({
      batches: [['a', 'full'].map(increment)],
      httpCalls: [],
    });
    expect(answers).toEqual([{ status: 202 }, { status: 507, message: 'no room' }]);
  });

  it('refuses the callers when its own replica refuses the whole call, as over HTTP', async () => {
    const refusing = {
      writes: () =>
        Promise.reject(
          Object.assign(new Error('writes must be an array'), { getStatus: () => 400 }),
        ),
    };
    const writes = new EventualWrites(
      replica(accepted),
      { batchMax: 200, inFlightMax: 1 },
      refusing,
    );
    const refusal = await writes.submit(increment('a')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ClusterRefused);
    expect((refusal as ClusterRefused).outcome).toMatchObject({
      kind: 'upstream-refused',
      detail: 'the crdt replica answered a batch with 400',
    });
  });

  it('with batchMax 1 sends a call per write', async () => {
    const crdt = replica(accepted);
    const writes = new EventualWrites(crdt, { batchMax: 1, inFlightMax: 64 });
    await Promise.all(['a', 'b', 'c'].map((name) => writes.submit(increment(name))));
    expect(crdt.calls.map((call) => call.writes.length)).toEqual([1, 1, 1]);
  });

  it('never sends more than the replica takes in one call', async () => {
    const crdt = replica(accepted);
    const writes = new EventualWrites(crdt, { batchMax: 10_000, inFlightMax: 1 });
    await Promise.all(Array.from({ length: 450 }, (_, i) => writes.submit(increment(`n${i}`))));
    expect(crdt.calls.map((call) => call.writes.length)).toEqual([200, 200, 50]);
  });

  it('a refused call is a 502 for each of its writes; a write left out of the answer is too', async () => {
    const refusing = new EventualWrites(
      replica(() => ({ status: 400, json: { message: 'writes must be an array' } })),
      { batchMax: 200, inFlightMax: 1 },
    );
    const refused = await refusing.submit(increment('a')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ClusterRefused);
    expect(problemFor((refused as ClusterRefused).outcome).getStatus()).toBe(502);

    const short = new EventualWrites(
      replica(() => ({ status: 200, json: { answers: [{ status: 202 }] } })),
      { batchMax: 200, inFlightMax: 1 },
    );
    const answers = await Promise.all([short.submit(increment('a')), short.submit(increment('b'))]);
    expect(answers[0]).toEqual({ status: 202 });
    expect(answers[1]).toMatchObject({ status: 502 });
  });

  it('passes the upstream refusal (503) to every caller of the call', async () => {
    const refusal = unavailable('crdt is unavailable');
    const writes = new EventualWrites(
      replica(() => Promise.reject(refusal)),
      { batchMax: 200, inFlightMax: 1 },
    );
    const outcomes = await Promise.allSettled([
      writes.submit(increment('a')),
      writes.submit(increment('b')),
    ]);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: refusal },
      { status: 'rejected', reason: refusal },
    ]);
  });

  it('refuses at once (503) beyond its bounded queue', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const crdt = replica(async (w) => {
      await held;
      return accepted(w);
    });
    const writes = new EventualWrites(crdt, { batchMax: 1, inFlightMax: 1 });
    const waiting = Array.from({ length: EVENTUAL_WRITES_QUEUED_MAX }, (_, i) =>
      writes.submit(increment(`n${i}`)),
    );
    const refused = await writes.submit(increment('one-too-many')).catch((e: unknown) => e);
    expect(problemFor((refused as ClusterRefused).outcome).getStatus()).toBe(503);
    release();
    await Promise.all(waiting);
  });
});

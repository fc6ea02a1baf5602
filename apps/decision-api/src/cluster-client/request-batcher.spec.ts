import type { ProposeResponse } from '@parley/command-log-api';
import { RequestBatcher } from './request-batcher';

interface Proposal {
  command: Record<string, unknown>;
}

/** A leader stand-in that answers each proposal with its requestId as the index. */
function recordingSender(fail?: (batch: Proposal[]) => boolean) {
  const batches: Proposal[][] = [];
  const send = (proposals: Proposal[]): Promise<ProposeResponse[]> => {
    batches.push(proposals);
    if (fail?.(proposals)) return Promise.reject(new Error('leader gone'));
    return Promise.resolve(
      proposals.map((p) => ({ status: 'applied', index: Number(p.command.requestId), result: {} })),
    );
  };
  return { batches, send };
}

const proposal = (n: number): Proposal => ({ command: { type: 'kv.put', requestId: String(n) } });
const options = {
  batchMax: 4,
  inFlightMax: 64,
  queuedMax: 10,
  overloaded: () => new Error('overloaded'),
  missingAnswer: { status: 'timeout' } as ProposeResponse,
};

describe('RequestBatcher', () => {
  it('sends the proposals of one event-loop turn as one batch, each caller getting its own answer', async () => {
    const { batches, send } = recordingSender();
    const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, options);
    const first = await Promise.all([1, 2, 3].map((n) => batcher.submit(proposal(n))));
    expect(batches).toHaveLength(1);
    expect(batches[0].map((p) => p.command.requestId)).toEqual(['1', '2', '3']);
    expect(first.map((a) => (a.status === 'applied' ? a.index : -1))).toEqual([1, 2, 3]);
    await batcher.submit(proposal(4));
    expect(batches).toHaveLength(2);
  });

  it('splits a turn into batches of at most batchMax', async () => {
    const { batches, send } = recordingSender();
    const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, options);
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => batcher.submit(proposal(n))));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 1]);
  });

  it('refuses at once past queuedMax, and takes proposals again once the queue has left', async () => {
    const { send } = recordingSender();
    const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, options);
    const accepted = Array.from({ length: 10 }, (_, n) => batcher.submit(proposal(n)));
    await expect(batcher.submit(proposal(99))).rejects.toThrow('overloaded');
    await Promise.all(accepted);
    expect(batcher.queued).toBe(0);
    await expect(batcher.submit(proposal(100))).resolves.toMatchObject({ index: 100 });
  });

  it('fails only the batch whose request failed', async () => {
    const { send } = recordingSender((batch) => batch.some((p) => p.command.requestId === '1'));
    const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, options);
    const answers = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) => batcher.submit(proposal(n))),
    );
    expect(answers.map((a) => a.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
  });

  it('treats an answer missing from a short reply as an unknown outcome', async () => {
    const batcher = new RequestBatcher<Proposal, ProposeResponse>(
      () => Promise.resolve([{ status: 'applied', index: 1, result: {} }]),
      options,
    );
    const [one, two] = await Promise.all([
      batcher.submit(proposal(1)),
      batcher.submit(proposal(2)),
    ]);
    expect(one.status).toBe('applied');
    expect(two.status).toBe('timeout');
  });

  describe('with a bound on batches in flight', () => {
    /** A leader stand-in whose answers come only when the test releases them, in order. */
    function heldSender() {
      const batches: Proposal[][] = [];
      const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
      const send = (proposals: Proposal[]) => {
        batches.push(proposals);
        return new Promise<ProposeResponse[]>((resolve, reject) =>
          pending.push({
            resolve: () =>
              resolve(
                proposals.map((p) => ({
                  status: 'applied',
                  index: Number(p.command.requestId),
                  result: {},
                })),
              ),
            reject,
          }),
        );
      };
      return { batches, pending, send };
    }
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const ids = (batches: Proposal[][]) =>
      batches.map((b) => b.map((p) => Number(p.command.requestId)));

    it('holds what arrives while the batches are out, and sends it together when one returns', async () => {
      const { batches, pending, send } = heldSender();
      const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, {
        ...options,
        inFlightMax: 1,
      });
      const first = batcher.submit(proposal(1));
      await nextTurn();
      const later = [2, 3, 4].map((n) => batcher.submit(proposal(n)));
      await nextTurn();
      await nextTurn();
      // Three more turns passed, but one batch is out: nothing else left.
      expect(ids(batches)).toEqual([[1]]);
      expect(batcher.queued).toBe(3);
      expect(batcher.outstanding).toBe(1);
      pending[0].resolve();
      expect(await first).toMatchObject({ status: 'applied', index: 1 });
      expect(ids(batches)).toEqual([[1], [2, 3, 4]]);
      pending[1].resolve();
      expect(
        (await Promise.all(later)).map((a) => (a.status === 'applied' ? a.index : -1)),
      ).toEqual([2, 3, 4]);
      expect(batcher.outstanding).toBe(0);
    });

    it('frees the slot of a failed batch, and still cuts the backlog at batchMax', async () => {
      const { batches, pending, send } = heldSender();
      const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, {
        ...options,
        inFlightMax: 1,
      });
      const first = batcher.submit(proposal(0));
      await nextTurn();
      const backlog = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(proposal(n)));
      pending[0].reject(new Error('leader gone'));
      await expect(first).rejects.toThrow('leader gone');
      // The backlog arrived in this turn: it leaves at the turn's end, in the freed slot.
      await nextTurn();
      expect(ids(batches)).toEqual([[0], [1, 2, 3, 4]]);
      pending[1].resolve();
      await Promise.all(backlog.slice(0, 4));
      expect(ids(batches)).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
      pending[2].resolve();
      await Promise.all(backlog);
      expect(batcher.queued).toBe(0);
    });

    it('asks a bound given as a function at each flush (it may change with the destination)', async () => {
      const { batches, pending, send } = heldSender();
      let bound = 1;
      const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, {
        ...options,
        inFlightMax: () => bound,
      });
      void batcher.submit(proposal(1));
      await nextTurn();
      void batcher.submit(proposal(2));
      await nextTurn();
      expect(ids(batches)).toEqual([[1]]);
      bound = 3;
      void batcher.submit(proposal(3));
      await nextTurn();
      // The wider bound lets the waiting request and the new one leave without the first's answer.
      expect(ids(batches)).toEqual([[1], [2, 3]]);
      expect(batcher.outstanding).toBe(2);
      pending.forEach((held) => held.resolve());
    });

    it('a lone request still leaves at the end of its turn', async () => {
      const { batches, send } = heldSender();
      const batcher = new RequestBatcher<Proposal, ProposeResponse>(send, {
        ...options,
        inFlightMax: 1,
      });
      void batcher.submit(proposal(7));
      expect(batches).toEqual([]);
      await nextTurn();
      expect(ids(batches)).toEqual([[7]]);
    });
  });
});

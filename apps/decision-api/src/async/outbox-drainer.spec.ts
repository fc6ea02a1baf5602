import { OutboxDrainer, Settled } from './outbox-drainer';
import { AcceptedRequest, OutboxState } from './outbox-state';

function request(n: number, sku: string): AcceptedRequest {
  const requestId = `r-${n}`;
  return {
    requestId,
    type: 'inventory.reserve',
    command: { type: 'inventory.reserve', requestId, sku, orderId: `o-${n}`, quantity: 1 },
    path: { sku },
    url: '/',
    acceptedAt: n,
  };
}

const decided: Settled = {
  kind: 'decided',
  answer: { status: 200, headers: {}, contentType: 'application/json', body: {} },
};

function setup(settle: (r: AcceptedRequest) => Promise<Settled>) {
  const state = new OutboxState({ entriesMax: 100, bytesMax: 1e6, decidedMax: 100 });
  for (const [n, sku] of [
    [1, 'a'],
    [2, 'b'],
    [3, 'a'],
    [4, 'a'],
    [5, 'b'],
  ] as const)
    state.apply({ op: 'accepted', request: request(n, sku) });
  const sleeps: number[] = [];
  const drainer = new OutboxDrainer(
    {
      heads: (max) => state.heads(max),
      decide: (d) => Promise.resolve(state.apply({ op: 'decided', decided: d })),
    },
    settle,
    {
      concurrency: 8,
      delayMsBase: 100,
      delayMsMax: 1_000,
      random: () => 0.999,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    },
  );
  return { state, drainer, sleeps };
}

describe('OutboxDrainer', () => {
  it('decides every request, in the order accepted on each entity', async () => {
    const order: string[] = [];
    const { state, drainer } = setup((r) => {
      order.push(`${String(r.command.sku)}:${r.requestId}`);
      return Promise.resolve(decided);
    });
    await drainer.run();
    expect(state.depth).toBe(0);
    expect(order.filter((o) => o.startsWith('a:'))).toEqual(['a:r-1', 'a:r-3', 'a:r-4']);
    expect(order.filter((o) => o.startsWith('b:'))).toEqual(['b:r-2', 'b:r-5']);
  });

  it('backs off exponentially, capped, while no leader takes proposals, then drains', async () => {
    let refusals = 6;
    const { state, drainer, sleeps } = setup(() =>
      Promise.resolve(refusals-- > 0 ? { kind: 'not-now' } : decided),
    );
    await drainer.run();
    expect(state.depth).toBe(0);
    // Rounds of two heads (a and b): rounds 1-3 refused; full jitter at random ≈ 1 hits the cap.
    expect(sleeps).toEqual([99, 199, 399]);
    expect(drainer.buffering).toBe(false);
  });

  it('keeps a request whose settling throws (a bug), and tries it again', async () => {
    let thrown = false;
    const { state, drainer } = setup((r) => {
      if (!thrown && r.requestId === 'r-1') {
        thrown = true;
        return Promise.reject(new Error('boom'));
      }
      return Promise.resolve(decided);
    });
    await drainer.run();
    expect(thrown).toBe(true);
    expect(state.depth).toBe(0);
    expect(state.decidedRequest('r-1')).toBeDefined();
  });
});

import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTBOX_FILES, Outbox } from './outbox';
import { AcceptedRequest, mayReadStatus, OutboxState } from './outbox-state';

const LIMITS = { entriesMax: 3, bytesMax: 10_000, decidedMax: 2 };

function request(n: number, sku = 'gpu', extra: Record<string, unknown> = {}): AcceptedRequest {
  const requestId = `r-${n}`;
  return {
    requestId,
    type: 'inventory.reserve',
    command: {
      type: 'inventory.reserve',
      requestId,
      sku,
      orderId: `o-${n}`,
      quantity: 1,
      ...extra,
    },
    path: { sku },
    url: `/v1/inventory/${sku}/reservations`,
    acceptedAt: n,
  };
}

const answer = (n: number) => ({
  status: 200,
  headers: { 'X-Raft-Index': String(n) },
  contentType: 'application/json' as const,
  body: { status: 'accepted', index: n },
});

describe('Outbox', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'outbox-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps accepted and decided requests across a reopen', async () => {
    const outbox = await Outbox.open(dir, LIMITS);
    expect(await outbox.accept(request(1))).toEqual({ kind: 'admit' });
    expect(await outbox.accept(request(2))).toEqual({ kind: 'admit' });
    await outbox.decide({ requestId: 'r-1', answer: answer(7), decidedAt: 1 });
    await outbox.close();
    const reopened = await Outbox.open(dir, LIMITS);
    expect(reopened.depth).toBe(1);
    expect(reopened.pendingRequest('r-2')?.command.orderId).toBe('o-2');
    expect(reopened.decidedRequest('r-1')?.answer).toEqual(answer(7));
    await reopened.close();
  });

  it('cuts a torn tail and a record whose checksum does not match, keeping what precedes', async () => {
    const outbox = await Outbox.open(dir, LIMITS);
    await outbox.accept(request(1));
    await outbox.close();
    const log = join(dir, OUTBOX_FILES.log);
    const whole = readFileSync(log).length;
    // A second record cut halfway (a crash mid-write)...
    const second = await Outbox.open(dir, LIMITS);
    await second.accept(request(2));
    await second.close();
    truncateSync(log, whole + 20);
    const torn = await Outbox.open(dir, LIMITS);
    expect(torn.depth).toBe(1);
    expect(readFileSync(log).length).toBe(whole);
    await torn.accept(request(3));
    await torn.close();
    // ...and a flipped byte in the last record's body.
    const bytes = readFileSync(log);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(log, bytes);
    const corrupt = await Outbox.open(dir, LIMITS);
    expect(corrupt.pendingRequest('r-1')).toBeDefined();
    expect(corrupt.pendingRequest('r-3')).toBeUndefined();
    expect(readFileSync(log).length).toBe(whole);
    await corrupt.close();
  });

  it('refuses beyond its entries and bytes, and tells a retry from a reused requestId', async () => {
    const outbox = await Outbox.open(dir, LIMITS);
    for (const n of [1, 2, 3]) expect((await outbox.accept(request(n))).kind).toBe('admit');
    expect(await outbox.accept(request(4))).toEqual({ kind: 'full', reason: 'entries' });
    // Same command with its fields in another order: a retry, nothing written.
    const retry = request(1);
    retry.command = Object.fromEntries(Object.entries(retry.command).reverse());
    expect(await outbox.accept(retry)).toEqual({ kind: 'known' });
    expect(await outbox.accept(request(1, 'other-sku'))).toEqual({ kind: 'key-reuse' });
    await outbox.close();
    const small = await Outbox.open(join(dir, 'small'), { ...LIMITS, bytesMax: 150 });
    expect(await small.accept(request(5, 'gpu', { pad: 'x'.repeat(100) }))).toEqual({
      kind: 'full',
      reason: 'bytes',
    });
    await small.close();
  });

  it('answers a retry that arrives while the first is being written only once it is on disk', async () => {
    const outbox = await Outbox.open(dir, LIMITS);
    const first = outbox.accept(request(1));
    const retry = outbox.accept(request(1));
    expect(await retry).toEqual({ kind: 'known' });
    // Its 202 promises what the first one's does: the record is on disk.
    expect(outbox.depth).toBe(1);
    expect(await first).toEqual({ kind: 'admit' });
    await outbox.close();
  });

  it('compacts its journal into a snapshot once drained, and reopens from it', async () => {
    const outbox = await Outbox.open(dir, { entriesMax: 10, bytesMax: 1e6, decidedMax: 5 });
    for (let n = 0; n < 600; n += 1) {
      await outbox.accept(request(n, `sku-${n % 7}`));
      await outbox.decide({ requestId: `r-${n}`, answer: answer(n), decidedAt: n });
    }
    // Compaction runs beside the decisions; close() waits for the one under way.
    await outbox.close();
    expect(readFileSync(join(dir, OUTBOX_FILES.log)).length).toBeLessThan(200 * 1000);
    const reopened = await Outbox.open(dir, { entriesMax: 10, bytesMax: 1e6, decidedMax: 5 });
    expect(reopened.depth).toBe(0);
    expect(reopened.decidedRequest('r-599')?.answer).toEqual(answer(599));
    // Only the newest decidedMax answers are kept.
    expect(reopened.decidedRequest('r-594')).toBeUndefined();
    await reopened.close();
  });
});

describe('OutboxState', () => {
  it("offers each entity's oldest request only, oldest first", () => {
    const state = new OutboxState({ entriesMax: 10, bytesMax: 1e6, decidedMax: 10 });
    for (const [n, sku] of [
      [1, 'a'],
      [2, 'a'],
      [3, 'b'],
      [4, 'c'],
    ] as const)
      state.apply({ op: 'accepted', request: request(n, sku) });
    expect(state.heads(10).map((r) => r.requestId)).toEqual(['r-1', 'r-3', 'r-4']);
    expect(state.heads(2).map((r) => r.requestId)).toEqual(['r-1', 'r-3']);
    state.apply({ op: 'decided', decided: { requestId: 'r-1', answer: answer(1), decidedAt: 0 } });
    expect(state.heads(10).map((r) => r.requestId)).toEqual(['r-2', 'r-3', 'r-4']);
    // Replaying a record the snapshot already has changes nothing.
    state.apply({ op: 'accepted', request: request(1, 'a') });
    expect(state.depth).toBe(3);
  });
});

describe('mayReadStatus', () => {
  it('lets operators read every request and an agent key only those of its own binding', () => {
    expect(mayReadStatus({ role: 'operator' }, 'a1')).toBe(true);
    expect(mayReadStatus({ role: 'operator' }, undefined)).toBe(true);
    expect(mayReadStatus({ role: 'agent', agentId: 'a1' }, 'a1')).toBe(true);
    expect(mayReadStatus({ role: 'agent', agentId: 'a2' }, 'a1')).toBe(false);
    expect(mayReadStatus({ role: 'agent' }, 'a1')).toBe(false);
    expect(mayReadStatus({ role: 'agent', agentId: 'a1' }, undefined)).toBe(false);
    expect(mayReadStatus({ role: 'agent' }, undefined)).toBe(true);
    expect(mayReadStatus({ role: 'reader' }, undefined)).toBe(false);
  });
});

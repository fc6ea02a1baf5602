import { InvariantViolation } from '@parley/common';
import { Inflights } from './inflights';
import { Progress, ProgressState } from './progress';

const { Probe, Replicate, Snapshot } = ProgressState;

/** A Progress in `state` with the given match and next (snapshot state: pending at `pending`). */
function progress(state: ProgressState, match: number, next: number, pending = 0): Progress {
  const pr = new Progress(next, 3, 0, false);
  pr.match = match;
  if (state === Replicate) {
    pr.becomeReplicate();
    pr.next = next;
  } else if (state === Snapshot) {
    pr.becomeSnapshot(pending);
  }
  return pr;
}

describe('progress state transitions (etcd tracker, Raft §5.3)', () => {
  it.each([
    // from, match, next, pending → next after becomeProbe
    [Probe, 1, 5, 0, 2],
    [Replicate, 1, 5, 0, 2], // replicate → probe restarts right after match
    [Snapshot, 1, 5, 10, 11], // snapshot → probe: the follower has at least the snapshot
    [Snapshot, 12, 13, 10, 13], // ... or more, if it acknowledged beyond it
  ])('%s (match %d next %d pending %d) → probe at next %d', (from, match, next, pending, want) => {
    const pr = progress(from, match, next, pending);
    pr.becomeProbe();
    expect([pr.state, pr.next, pr.pendingSnapshot]).toEqual([Probe, want, 0]);
  });

  it.each([
    [Probe, 4, 5],
    [Probe, 4, 9],
    [Snapshot, 10, 11],
  ])('%s (match %d next %d) → replicate at match + 1', (from, match, next) => {
    const pr = progress(from, match, next, 10);
    pr.becomeReplicate();
    expect([pr.state, pr.next]).toEqual([Replicate, match + 1]);
  });

  it('becoming snapshot keeps match and next and remembers the snapshot', () => {
    const pr = progress(Replicate, 3, 7);
    pr.becomeSnapshot(10);
    expect([pr.state, pr.match, pr.next, pr.pendingSnapshot]).toEqual([Snapshot, 3, 7, 10]);
    expect(() => pr.becomeSnapshot(0)).toThrow(InvariantViolation);
  });

  it.each([
    // match, next, acked → updated, match, next
    [3, 5, 2, false, 3, 5], // stale ack
    [3, 5, 3, false, 3, 5], // repeated ack
    [3, 5, 4, true, 4, 5],
    [3, 5, 6, true, 6, 7], // acked beyond next: next moves past it
  ])('match %d next %d, ack of %d → updated %s match %d next %d', (m, n, ack, up, m2, n2) => {
    const pr = progress(Replicate, m, n);
    expect(pr.maybeUpdate(ack)).toBe(up);
    expect([pr.match, pr.next]).toEqual([m2, n2]);
  });

  it.each([
    // state, match, next, rejected, hint → accepted, next after
    [Replicate, 5, 10, 5, 5, false, 10], // rejection of an index ≤ match is stale
    [Replicate, 5, 10, 4, 4, false, 10],
    [Replicate, 5, 10, 9, 9, true, 6], // replicate backs up to match + 1
    [Probe, 0, 10, 5, 5, false, 10], // probe: only the answer to the probe at next - 1 counts
    [Probe, 0, 10, 9, 9, true, 9],
    [Probe, 0, 10, 9, 2, true, 3], // the hint skips ahead
    [Probe, 0, 10, 9, 0, true, 1],
    [Probe, 1, 10, 9, 0, true, 2], // never below match + 1
    [Probe, 0, 10, 9, 20, true, 9], // a hint beyond the rejected index is ignored
  ])(
    '%s match %d next %d, reject of %d hint %d → %s, next %d',
    (state, match, next, rejected, hint, accepted, nextAfter) => {
      const pr = progress(state, match, next);
      expect(pr.maybeDecrTo(rejected, hint)).toBe(accepted);
      expect(pr.next).toBe(nextAfter);
      expect(pr.match).toBeLessThan(pr.next);
    },
  );

  it.each([
    // state, probe sent, inflight messages (window of 3) → paused
    [Probe, false, 0, false],
    [Probe, true, 0, true], // one probe at a time
    [Replicate, false, 2, false],
    [Replicate, false, 3, true], // the window is full
    [Snapshot, false, 0, true], // appends wait for the snapshot
  ])('%s probeSent=%s inflight=%d → paused %s', (state, probeSent, inflight, paused) => {
    const pr = progress(state, 0, 1, 5);
    pr.probeSent = probeSent;
    for (let i = 1; i <= inflight; i += 1) pr.sentEntries(i, 1, 10);
    expect(pr.isPaused()).toBe(paused);
  });

  it('sending in replicate moves next optimistically and fills the window; probe waits', () => {
    const replicate = progress(Replicate, 4, 5);
    replicate.sentEntries(7, 3, 30);
    expect([replicate.next, replicate.inflights.count, replicate.inflights.bytes]).toEqual([
      8, 1, 30,
    ]);
    const probe = progress(Probe, 4, 5);
    probe.sentEntries(7, 3, 30);
    expect([probe.next, probe.probeSent, probe.inflights.count]).toEqual([5, true, 0]);
    expect(() => progress(Snapshot, 4, 5, 9).sentEntries(7, 3, 30)).toThrow(InvariantViolation);
  });
});

describe('inflights: the bounded window of appends to one follower', () => {
  it.each([
    // max count, max bytes, sizes added → full after
    [3, 0, [10, 10], false],
    [3, 0, [10, 10, 10], true],
    [5, 25, [10, 10], false],
    [5, 25, [10, 10, 10], true], // the byte bound is reached first
    [5, 20, [10, 10], true], // full at exactly the byte bound
  ])('max %d msgs / %d bytes, after %j → full %s', (maxCount, maxBytes, sizes, full) => {
    const inflights = new Inflights(maxCount, maxBytes);
    sizes.forEach((bytes, i) => inflights.add(i + 1, bytes));
    expect(inflights.full()).toBe(full);
  });

  it.each([
    // last indexes in flight, freed up to → count and bytes left (10 bytes each)
    [[3, 5, 9], 2, 3, 30],
    [[3, 5, 9], 3, 2, 20],
    [[3, 5, 9], 6, 1, 10],
    [[3, 5, 9], 9, 0, 0],
    [[3, 5, 9], 100, 0, 0],
  ])('%j freed ≤ %d → %d left (%d bytes)', (indexes, upTo, count, bytes) => {
    const inflights = new Inflights(10, 0);
    for (const index of indexes) inflights.add(index, 10);
    inflights.freeLE(upTo);
    expect([inflights.count, inflights.bytes]).toEqual([count, bytes]);
  });

  it('frees the oldest message when its ack is presumed lost', () => {
    const inflights = new Inflights(2, 0);
    inflights.add(3, 10);
    inflights.add(5, 10);
    inflights.freeFirst();
    expect([inflights.count, inflights.full()]).toEqual([1, false]);
  });

  it('refuses to overfill or to go back in index', () => {
    const inflights = new Inflights(1, 0);
    inflights.add(3, 10);
    expect(() => inflights.add(4, 10)).toThrow(InvariantViolation);
    const ordered = new Inflights(5, 0);
    ordered.add(3, 10);
    expect(() => ordered.add(3, 10)).toThrow(InvariantViolation);
  });

  it('keeps its count through many add/free cycles (the backing arrays compact)', () => {
    const inflights = new Inflights(4, 0);
    for (let i = 1; i <= 1000; i += 1) {
      inflights.add(i, 1);
      if (i > 3) inflights.freeLE(i - 3);
    }
    expect([inflights.count, inflights.bytes]).toEqual([3, 3]);
  });
});

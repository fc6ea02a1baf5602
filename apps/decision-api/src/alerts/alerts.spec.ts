import { createHmac } from 'node:crypto';
import { PartitionDetector } from './partition-detector';
import { AlertWebhook, alertSignature } from './webhook';

describe('PartitionDetector', () => {
  const limits = { leaderChangesMax: 2, leaderChangesWindowMs: 10_000, outboxDepthMax: 5 };

  it('raises quorum lost and regained once per episode, not for the state at start', () => {
    const d = new PartitionDetector(limits);
    expect(d.observeLeader(null, 1, 0)).toEqual([]);
    expect(d.observeLeader('n1', 2, 100)).toMatchObject([
      { kind: 'quorum-regained', leader: 'n1', lostForMs: 100 },
    ]);
    expect(d.observeLeader('n1', 2, 200)).toEqual([]);
    expect(d.observeLeader(null, 2, 300)).toMatchObject([
      { kind: 'quorum-lost', lastLeader: 'n1' },
    ]);
    expect(d.observeLeader(null, 3, 400)).toEqual([]);
    expect(d.observeLeader('n1', 4, 1_300)).toMatchObject([
      { kind: 'quorum-regained', lostForMs: 1_000, at: new Date(1_300).toISOString() },
    ]);
  });

  it('raises leader changes above the rate once, again only after the rate fell back', () => {
    const d = new PartitionDetector(limits);
    const kinds = (leader: string, now: number) =>
      d.observeLeader(leader, 1, now).map((a) => a.kind);
    expect(kinds('n1', 0)).toEqual([]);
    expect(kinds('n2', 1_000)).toEqual([]);
    expect(kinds('n3', 2_000)).toEqual([]);
    expect(kinds('n1', 3_000)).toEqual(['leader-changes']);
    expect(kinds('n2', 4_000)).toEqual([]);
    expect(d.leaderChangesTotal).toBe(4);
    expect(kinds('n2', 20_000)).toEqual([]);
    expect(kinds('n3', 21_000)).toEqual([]);
  });

  it('raises an outbox above its threshold once until it drops below', () => {
    const d = new PartitionDetector(limits);
    expect(d.observeOutbox(5, 0)).toEqual([]);
    expect(d.observeOutbox(6, 1)).toMatchObject([{ kind: 'outbox-depth', depth: 6, threshold: 5 }]);
    expect(d.observeOutbox(9, 2)).toEqual([]);
    expect(d.observeOutbox(0, 3)).toEqual([]);
    expect(d.observeOutbox(7, 4)).toHaveLength(1);
  });
});

describe('AlertWebhook', () => {
  const alert = { kind: 'quorum-lost' as const, at: '2026-01-01T00:00:00.000Z', term: 3 };

  it('signs t.body with HMAC-SHA256', () => {
    const expected = createHmac('sha256', 'a-secret-of-16-chars')
      .update('1700.{"a":1}')
      .digest('hex');
    expect(alertSignature('a-secret-of-16-chars', 1700, '{"a":1}')).toBe(`t=1700,v1=${expected}`);
  });

  it('retries a failed delivery with the same id and signature scheme, then counts it delivered', async () => {
    const calls: { headers: Record<string, string>; body: string }[] = [];
    const counted: string[] = [];
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    const webhook = new AlertWebhook({
      url: 'http://127.0.0.1:1/hook',
      secret: 'a-secret-of-16-chars',
      queueMax: 10,
      attemptsMax: 3,
      timeoutMs: 1_000,
      now: () => 5_000,
      sleep: () => Promise.resolve(),
      count: (result) => {
        counted.push(result);
        delivered();
      },
      post: (_url, init) => {
        calls.push({ headers: init.headers as Record<string, string>, body: String(init.body) });
        return Promise.resolve({ ok: calls.length === 3, status: calls.length === 3 ? 204 : 500 });
      },
    });
    webhook.publish(alert);
    await done;
    expect(counted).toEqual(['delivered']);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers['parley-alert-id'])).size).toBe(1);
    expect(JSON.parse(calls[0].body)).toEqual(alert);
    expect(calls[0].headers['parley-signature']).toBe(
      alertSignature('a-secret-of-16-chars', 5, calls[0].body),
    );
  });

  it('never blocks: a full queue drops its oldest alert and counts it', () => {
    const counted: string[] = [];
    const webhook = new AlertWebhook({
      url: 'http://127.0.0.1:1/hook',
      queueMax: 2,
      attemptsMax: 1,
      timeoutMs: 1_000,
      count: (result) => counted.push(result),
      post: () => new Promise(() => undefined),
    });
    for (let n = 0; n < 5; n += 1) webhook.publish({ ...alert, n });
    // One is being sent (its post never answers); two wait; two were dropped.
    expect(webhook.queued).toBe(2);
    expect(counted).toEqual(['dropped', 'dropped']);
    webhook.close();
  });
});

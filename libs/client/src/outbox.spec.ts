import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyConflict, ParleyUnavailable } from './errors';
import { Outbox, OutboxEntry } from './outbox';

const backoff = { delayMsBase: 1, delayMsMax: 4 };
const entry = (requestId: string): OutboxEntry => ({
  method: 'POST',
  path: '/v1/inventory/apple/reservations',
  body: { requestId, orderId: requestId, quantity: 1 },
  requestId,
  queuedAtMs: 0,
});

describe('the client outbox', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends its commands in order, again after "unavailable", each until taken', async () => {
    const attempts: string[] = [];
    let failuresLeft = 3;
    const outbox = new Outbox(
      { entriesMax: 10 },
      async (e) => {
        attempts.push(e.requestId);
        if (failuresLeft-- > 0) throw new ParleyUnavailable('no leader');
      },
      backoff,
      () => 0.5,
    );
    outbox.add(entry('a'));
    outbox.add(entry('b'));
    outbox.add(entry('a')); // the same command again: kept once
    await outbox.drained();
    expect(attempts).toEqual(['a', 'a', 'a', 'a', 'b']);
    expect(outbox.size).toBe(0);
  });

  it('refuses a command beyond its bound', () => {
    const outbox = new Outbox(
      { entriesMax: 1 },
      () => new Promise(() => undefined), // never answers: the first stays in flight
      backoff,
      Math.random,
    );
    outbox.add(entry('a'));
    expect(() => outbox.add(entry('b'))).toThrow(/outbox is full \(1 commands\)/);
    outbox.close();
  });

  it('drops a command the cluster refuses for good, and says so', async () => {
    const dropped: string[] = [];
    const outbox = new Outbox(
      { entriesMax: 5, onDropped: (e, error) => dropped.push(`${e.requestId} ${error.name}`) },
      async (e) => {
        if (e.requestId === 'bad') throw new ParleyConflict('window passed', { status: 409 });
      },
      backoff,
      Math.random,
    );
    outbox.add(entry('bad'));
    outbox.add(entry('good'));
    await outbox.drained();
    expect(dropped).toEqual(['bad ParleyConflict']);
  });

  it('keeps its commands in the named file, and a new outbox on that file sends them', async () => {
    const file = join(dir, 'outbox.jsonl');
    const first = new Outbox(
      { entriesMax: 5, file },
      async () => {
        throw new ParleyUnavailable('down');
      },
      { delayMsBase: 60_000, delayMsMax: 60_000 },
      () => 0.99,
    );
    first.add(entry('x'));
    first.add(entry('y'));
    first.close();
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).requestId),
    ).toEqual(['x', 'y']);
    const sent: string[] = [];
    const second = new Outbox(
      { entriesMax: 5, file },
      async (e) => void sent.push(e.requestId),
      backoff,
      Math.random,
    );
    await second.drained();
    expect(sent).toEqual(['x', 'y']);
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  DecisionEvent,
  ParleyBadRequest,
  ParleyClient,
  ParleyCompacted,
  ParleyOutcomeUnknown,
  ParleyUnavailable,
} from '@parley/client';
import { freePort } from '../support/ports';

/**
 * @parley/client against small loopback HTTP servers that script their answers and count what
 * reaches them: the retry rules seen from the server's side (attempts, their spacing, the
 * request id they carry), failover, and the watch's resumption over a scripted event stream.
 */
interface Seen {
  method: string;
  url: string;
  atMs: number;
  body: string;
  headers: IncomingMessage['headers'];
}

class ScriptedServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly seen: Seen[],
  ) {}

  static async start(
    answer: (request: Seen, response: ServerResponse, n: number) => void,
  ): Promise<ScriptedServer> {
    const seenAll: Seen[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const seen = {
          method: request.method!,
          url: request.url!,
          atMs: Date.now(),
          body,
          headers: request.headers,
        };
        seenAll.push(seen);
        answer(seen, response, seenAll.length);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ScriptedServer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      seenAll,
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const json = (response: ServerResponse, status: number, body: unknown, headers = {}) => {
  response.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    ...headers,
  });
  response.end(JSON.stringify(body));
};

const kvAnswer = { key: 'k', value: 'v', version: 1, index: 5 };

describe('@parley/client retries, as the server counts them', () => {
  const servers: ScriptedServer[] = [];
  const clients: ParleyClient[] = [];
  const start = async (answer: Parameters<typeof ScriptedServer.start>[0]) => {
    const server = await ScriptedServer.start(answer);
    servers.push(server);
    return server;
  };
  const client = (
    endpoints: string[],
    options: Partial<ConstructorParameters<typeof ParleyClient>[0]> = {},
  ) => {
    const made = new ParleyClient({
      endpoints,
      apiKey: 'k',
      backoff: { delayMsBase: 10, delayMsMax: 50 },
      ...options,
    });
    clients.push(made);
    return made;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.stop();
  });

  it('waits out Retry-After before each retry and sends the same requestId every time', async () => {
    const server = await start((_, response, n) =>
      n <= 2
        ? json(response, 429, { title: 'Too Many Requests', status: 429 }, { 'retry-after': '1' })
        : json(response, 200, kvAnswer),
    );
    const answer = await client([server.url]).kv.put('k', 'v');
    expect(answer).toEqual(kvAnswer);
    expect(server.seen).toHaveLength(3);
    const ids = server.seen.map((s) => JSON.parse(s.body).requestId);
    expect(new Set(ids).size).toBe(1);
    expect(server.seen.map((s) => s.headers['x-request-id'])).toEqual(ids);
    // Retry-After is a floor on the pause between attempts, measured where they arrive.
    for (const k of [1, 2])
      expect(server.seen[k].atMs - server.seen[k - 1].atMs).toBeGreaterThanOrEqual(1_000);
  });

  it('stops at the deadline with ParleyUnavailable when every answer is "not now"', async () => {
    const server = await start((_, response) =>
      json(
        response,
        503,
        { title: 'Service Unavailable', detail: 'no leader' },
        { 'retry-after': '1' },
      ),
    );
    const failure = client([server.url], { breaker: { volumeThreshold: 100 } }).kv.get('k', {
      deadlineMs: 2_500,
    });
    await expect(failure).rejects.toThrow(ParleyUnavailable);
    await expect(failure).rejects.toThrow(/no leader/);
    // At most one attempt per second fits in 2.5 s, and the client never waits past it.
    expect(server.seen.length).toBeGreaterThanOrEqual(2);
    expect(server.seen.length).toBeLessThanOrEqual(3);
  });

  it('never sends an increment twice once a server may have seen it', async () => {
    const timeout = await start((_, response) => json(response, 504, { title: 'Gateway Timeout' }));
    await expect(client([timeout.url]).counters.increment('c')).rejects.toThrow(
      ParleyOutcomeUnknown,
    );
    expect(timeout.seen).toHaveLength(1);
    const cut = await start((_, response) => response.socket!.destroy());
    await expect(client([cut.url]).counters.increment('c')).rejects.toThrow(ParleyOutcomeUnknown);
    expect(cut.seen).toHaveLength(1);
  });

  it('retries a strong write cut off mid-answer with the same requestId, on the next endpoint', async () => {
    const cut = await start((_, response) => response.socket!.destroy());
    const good = await start((_, response) =>
      json(response, 200, { status: 'accepted', available: 4, index: 9 }),
    );
    const answer = await client([cut.url, good.url]).inventory.reserve('apple', {
      orderId: 'o1',
      quantity: 1,
    });
    expect(answer.status).toBe('accepted');
    expect(JSON.parse(good.seen[0].body).requestId).toBe(JSON.parse(cut.seen[0].body).requestId);
  });

  it('fails over from an endpoint that refuses connections, and opens its breaker', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const good = await start((_, response) => json(response, 200, kvAnswer));
    const parley = client([dead, good.url], {
      breaker: { volumeThreshold: 1, resetTimeoutMs: 60_000 },
    });
    expect(await parley.kv.get('k')).toEqual(kvAnswer);
    expect(parley.endpointStates()).toEqual([
      { url: dead, open: true },
      { url: good.url, open: false },
    ]);
    // Sticks to the endpoint that answered.
    await parley.kv.get('k');
    expect(good.seen).toHaveLength(2);
  });

  it('refuses a bad argument before sending anything, naming the field', async () => {
    const server = await start((_, response) => json(response, 200, {}));
    const parley = client([server.url]);
    const failure = parley.inventory.reserve('apple', { orderId: 'o1', quantity: 0 });
    await expect(failure).rejects.toThrow(ParleyBadRequest);
    await expect(failure).rejects.toThrow(/quantity must be an integer from 1/);
    expect(server.seen).toHaveLength(0);
  });
});

describe('watch() over a scripted event stream', () => {
  const servers: ScriptedServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  const event = (index: number, extra: Partial<DecisionEvent> = {}) =>
    `event: decision\nid: ${index}\ndata: ${JSON.stringify({
      index,
      type: 'kv.put',
      entity: `kv/k${index}`,
      result: { index },
      decidedBy: 'command',
      ...extra,
    })}\n\n`;
  const stream = (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.flushHeaders();
  };

  it('resumes after a dropped connection and an overflow from the last index, without gap or duplicate', async () => {
    const server = await ScriptedServer.start((_, response, n) => {
      stream(response);
      if (n === 1) {
        response.write(`: heartbeat\n\n${event(1)}${event(2)}`);
        setImmediate(() => response.socket!.destroy());
      } else if (n === 2) {
        // A server that resends what was seen: the client must not yield it twice.
        response.end(`${event(2)}${event(3)}event: overflow\ndata: {}\n\n`);
      } else
        // Two decisions at one index (a deadline decision before the entry's own): both count.
        response.write(
          `${event(4, { type: 'proposal.decided', entity: 'proposals/p' })}${event(4)}`,
        );
    });
    servers.push(server);
    const parley = new ParleyClient({
      endpoints: server.url,
      backoff: { delayMsBase: 10, delayMsMax: 20 },
    });
    const seen: number[] = [];
    for await (const decision of parley.watch({ prefix: 'kv/', fromIndex: 0 })) {
      seen.push(decision.index);
      if (seen.length === 5) break;
    }
    parley.close();
    expect(seen).toEqual([1, 2, 3, 4, 4]);
    expect(server.seen.map((s) => s.url)).toEqual([
      '/v1/watch?prefix=kv%2F&fromIndex=0',
      '/v1/watch?prefix=kv%2F&fromIndex=2',
      '/v1/watch?prefix=kv%2F&fromIndex=3',
    ]);
    expect(server.seen[2].headers['last-event-id']).toBe('3');
  });

  it('throws ParleyCompacted with the resync point, from an event or from a 410', async () => {
    const server = await ScriptedServer.start((_, response, n) => {
      if (n === 1) {
        stream(response);
        response.end(`event: compacted\ndata: {"compactedIndex":50,"resyncFrom":51}\n\n`);
      } else json(response, 410, { title: 'Gone', compactedIndex: 50, resyncFrom: 51 });
    });
    servers.push(server);
    const parley = new ParleyClient({ endpoints: server.url });
    for (let k = 0; k < 2; k += 1) {
      const failure = (async () => {
        for await (const _ of parley.watch({ fromIndex: 3 })) void _;
      })();
      await expect(failure).rejects.toThrow(ParleyCompacted);
      await failure.catch((error: ParleyCompacted) => expect(error.resyncFrom).toBe(51));
    }
    parley.close();
  });

  it('waits for a request decided later: on the watch, looking once the stream is open', async () => {
    let decided = false;
    let watcher: ServerResponse | undefined;
    const server = await ScriptedServer.start((seen, response) => {
      if (seen.url.startsWith('/v1/watch')) {
        stream(response);
        watcher = response;
      } else if (!decided) {
        // Decided right after the client's first look: only the stream can tell it so.
        json(response, 202, { requestId: 'r-1', state: 'pending' });
        decided = true;
        watcher!.write(
          event(8, { requestId: 'r-1', type: 'inventory.reserve', entity: 'inventory/apple' }),
        );
      } else json(response, 200, { status: 'accepted', available: 0, index: 8 });
    });
    servers.push(server);
    const parley = new ParleyClient({ endpoints: server.url });
    const outcome = await parley.requests.waitFor('r-1');
    parley.close();
    expect(outcome).toEqual({
      requestId: 'r-1',
      state: 'decided',
      status: 200,
      body: { status: 'accepted', available: 0, index: 8 },
    });
    expect(server.seen.filter((s) => s.url === '/v1/requests/r-1')).toHaveLength(2);
  });
});

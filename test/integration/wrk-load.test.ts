import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { wrkLoad } from '../../scripts/bench/suite/wrk-load';

jest.setTimeout(120_000);

/**
 * The benchmark's wrk driver against a recording HTTP server: every request carries a body
 * unique in the run (so Parley never answers a replay), keys cycle as asked, headers arrive,
 * and the figures wrk prints are read back.
 */
describe('wrkLoad (scripts/bench/suite/wrk-load)', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; url: string; body: string; auth?: string; type?: string }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({
          method: request.method!,
          url: request.url!,
          body,
          auth: request.headers.authorization,
          type: request.headers['content-type'],
        });
        // Every tenth answer is a refusal, which wrk counts apart.
        response.statusCode = seen.length % 10 === 0 ? 409 : 200;
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('sends unique bodies, cycles keys, and reports what it measured', async () => {
    const result = await wrkLoad({
      url,
      clients: 4,
      seconds: 1,
      workload: {
        method: 'PUT',
        path: '/v1/kv/k-{k}',
        body: '{"requestId":"{n}","key":"{K}"}',
        headers: { authorization: 'Bearer secret-key-0123456789' },
        keyed: ['a', 'b', 'c'],
      },
    });
    expect(seen.length).toBeGreaterThan(20);
    // Requests still in flight when wrk stops reach the server but are not counted: at most
    // one per connection.
    expect(seen.length - result.requests).toBeGreaterThanOrEqual(0);
    expect(seen.length - result.requests).toBeLessThanOrEqual(4);
    const refused = Math.floor(seen.length / 10);
    expect(result.requests - result.ok).toBeGreaterThanOrEqual(refused - 4);
    expect(result.requests - result.ok).toBeLessThanOrEqual(refused);
    const bodies = seen.map((r) => JSON.parse(r.body) as { requestId: string; key: string });
    expect(new Set(bodies.map((b) => b.requestId)).size).toBe(seen.length);
    expect(new Set(seen.map((r) => r.url))).toEqual(
      new Set(['/v1/kv/k-0', '/v1/kv/k-1', '/v1/kv/k-2']),
    );
    for (const [i, r] of seen.entries()) {
      expect(r.method).toBe('PUT');
      expect(r.auth).toBe('Bearer secret-key-0123456789');
      expect(r.type).toBe('application/json');
      expect(bodies[i].key).toBe(['a', 'b', 'c'][Number(r.url.slice(-1))]);
    }
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  });
});

import { AddressInfo } from 'node:net';
import { Server, createServer } from 'node:http';
import { ClusterRefused } from './outcomes';
import { problemFor } from '../http/outcome-to-problem';
import { HttpUpstream } from './http-upstream';

describe('HttpUpstream over a real loopback server', () => {
  let server: Server;
  let upstream: HttpUpstream;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.url === '/echo') {
          response.writeHead(202, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ method: request.method, got: JSON.parse(body) }));
        } else if (request.url === '/missing') {
          response.writeHead(404, { 'content-type': 'application/json' });
          response.end('{"title":"Not Found"}');
        } else if (request.url === '/not-json') {
          response.end('plain words');
        } else if (request.url === '/huge') {
          response.end(Buffer.alloc(17 * 1024 * 1024, 0x20));
        } else {
          response.writeHead(500);
          response.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    upstream = new HttpUpstream('test-upstream', [`127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    upstream.onApplicationShutdown();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the JSON body and reads the JSON answer with its status', async () => {
    expect(await upstream.call('POST', '/echo', { delta: 2 })).toEqual({
      status: 202,
      json: { method: 'POST', got: { delta: 2 } },
    });
  });

  it('passes a 4xx through as an answer, and a body that is not JSON as no json', async () => {
    expect(await upstream.call('GET', '/missing')).toEqual({
      status: 404,
      json: { title: 'Not Found' },
    });
    expect(await upstream.call('GET', '/not-json')).toEqual({ status: 200, json: undefined });
  });

  it('refuses as unavailable (503 with Retry-After for REST) a 5xx and an answer past the size bound', async () => {
    for (const path of ['/fails', '/huge']) {
      const refused = await upstream.call('GET', path).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ClusterRefused);
      const { outcome } = refused as ClusterRefused;
      expect(outcome).toMatchObject({ kind: 'unavailable', retryAfterS: 1 });
      expect(problemFor(outcome).getStatus()).toBe(503);
    }
  });
});

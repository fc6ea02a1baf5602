/**
 * The one load generator both systems get: `clients` closed-loop workers, each with its own
 * keep-alive connection (node:http Agent, maxSockets = clients), a fixed request count after a
 * warm-up, bounded in time. Latency is from write to the last byte of the answer.
 */
import { LoadResult, closedLoop } from '@parley/common';
import { Agent, request as httpRequest } from 'node:http';

export interface HttpCall {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpLoadOptions {
  url: string;
  clients: number;
  requests: number;
  seconds: number;
  warmup?: number;
  request: (n: number) => HttpCall;
  /** An answer counts as a success when this holds (default: 2xx). */
  accept?: (status: number, body: string) => boolean;
}

export interface HttpLoadResult extends LoadResult {
  firstFailure?: string;
}

export async function httpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const accept = options.accept ?? ((status) => status >= 200 && status < 300);
  let firstFailure: string | undefined;
  const send = (call: HttpCall) =>
    new Promise<boolean>((resolve) => {
      const request = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: call.method,
          path: call.path,
          headers: {
            ...(call.body === undefined
              ? {}
              : {
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(call.body),
                }),
            ...call.headers,
          },
          timeout: 30_000,
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => {
            const ok = accept(response.statusCode ?? 0, body);
            if (!ok)
              firstFailure ??= `${call.method} ${call.path} → ${response.statusCode} ${body.slice(0, 200)}`;
            resolve(ok);
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) => {
        firstFailure ??= `${call.method} ${call.path}: ${error.message}`;
        resolve(false);
      });
      request.end(call.body);
    });
  try {
    const warmup = options.warmup ?? 0;
    if (warmup > 0)
      await closedLoop(options.clients, warmup, options.seconds, (n) =>
        send(options.request(-1 - n)),
      );
    const result = await closedLoop(options.clients, options.requests, options.seconds, (n) =>
      send(options.request(n)),
    );
    return { ...result, ...(firstFailure ? { firstFailure } : {}) };
  } finally {
    agent.destroy();
  }
}

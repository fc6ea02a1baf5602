import { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

/** What a test client trusts (the CA) and, for servers that ask for one, presents. */
export interface ClientTls {
  ca: string;
  cert?: string;
  key?: string;
}

export interface JsonAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  json: unknown;
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * One HTTPS request with the given trust and identity (the global fetch takes no CA), answered
 * with its status, headers and JSON body (undefined when the body is not JSON). A server whose
 * certificate the CA did not sign, or that refuses ours, rejects the promise.
 */
export function httpsJson(
  url: string,
  tls: ClientTls,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<JsonAnswer> {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: init.method ?? 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          ...(init.headers ?? {}),
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, json });
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${url} did not answer in time`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/**
 * GET with the global fetch, or over HTTPS with `tls`: the JSON of a 2xx-4xx answer with its
 * status, for helpers that serve both plain and TLS clusters.
 */
export async function getJson(
  url: string,
  tls?: ClientTls,
): Promise<{ status: number; json: unknown }> {
  if (tls) return httpsJson(url, tls);
  const response = await fetch(url);
  return { status: response.status, json: await response.json().catch(() => undefined) };
}

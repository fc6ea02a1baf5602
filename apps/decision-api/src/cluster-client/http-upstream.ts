import { OnApplicationShutdown } from '@nestjs/common';
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { PeerTls } from '@parley/app-kit';
import { breakerState, createBreaker } from '@parley/resilience';
import { unavailable } from './outcomes';

const REQUEST_TIMEOUT_MS = 5_000;
/** The largest answer read from an upstream (a crdt set of many elements is a few MB). */
const RESPONSE_BYTES_MAX = 16 * 1024 * 1024;
/** Pooled keep-alive connections to one upstream process. */
const SOCKETS_MAX = 64;

/**
 * A local app reached over HTTP (the crdt replica, the gossip member), behind an opossum
 * breaker: while it keeps failing, calls fail fast (unavailable: 503 for REST, a retry for Kafka) instead of piling up. With peer
 * TLS it is HTTPS: the upstream's certificate is checked against the peer CA and this node's
 * peer certificate is presented (for an upstream with PARLEY_TLS_CLIENT_CERT_AUTH).
 */
export class HttpUpstream implements OnApplicationShutdown {
  private readonly breaker;
  private readonly agent: Agent;
  private readonly startRequest: typeof httpRequest;

  constructor(
    readonly name: string,
    private readonly nodes: readonly string[],
    tls?: PeerTls,
  ) {
    const pool = { keepAlive: true, maxSockets: SOCKETS_MAX };
    this.agent = tls ? new HttpsAgent({ ...pool, ...tls.client }) : new Agent(pool);
    this.startRequest = tls ? httpsRequest : httpRequest;
    this.breaker = createBreaker(
      async (method: string, path: string, body: unknown) => this.send(method, path, body),
      {
        name,
        timeoutMs: REQUEST_TIMEOUT_MS,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 2_000,
        volumeThreshold: 5,
      },
    );
  }

  /** Nest calls this on shutdown: idle keep-alive connections go at once. */
  onApplicationShutdown(): void {
    this.agent.destroy();
  }

  get configured(): boolean {
    return this.nodes.length > 0;
  }

  state(): string {
    return breakerState(this.breaker);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    if (this.nodes.length === 0) throw unavailable(`no ${this.name} node is configured`, 5);
    try {
      return await this.breaker.fire(method, path, body);
    } catch {
      throw unavailable(`${this.name} is unavailable`, 1);
    }
  }

  /** The first node that answers; a 4xx from it is an answer, not a failure. */
  private async send(
    method: string,
    path: string,
    body: unknown,
  ): Promise<{ status: number; json: unknown }> {
    let lastError: unknown;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (const node of this.nodes) {
      try {
        const response = await this.request(node, method, path, payload);
        if (response.status >= 500) throw new Error(`${this.name} answered ${response.status}`);
        return response;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * One request over a pooled keep-alive connection. node:http rather than the global fetch:
   * fetch's streams, Headers and abort signal cost several times more CPU per request, and
   * every eventual decision pays this hop.
   */
  private request(
    node: string,
    method: string,
    path: string,
    payload: string | undefined,
  ): Promise<{ status: number; json: unknown }> {
    const at = node.lastIndexOf(':');
    const host = node.slice(0, at).replace(/^\[(.*)\]$/, '$1');
    return new Promise((resolve, reject) => {
      const request = this.startRequest(
        {
          agent: this.agent,
          host,
          port: Number(node.slice(at + 1)),
          method,
          path,
          timeout: REQUEST_TIMEOUT_MS,
          headers:
            payload === undefined
              ? {}
              : {
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(payload),
                },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > RESPONSE_BYTES_MAX)
              request.destroy(
                new Error(`${this.name} answered more than ${RESPONSE_BYTES_MAX} bytes`),
              );
            else chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            let json: unknown;
            try {
              json = size > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: response.statusCode ?? 0, json });
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`${this.name} did not answer in time`)),
      );
      request.on('error', reject);
      request.end(payload);
    });
  }
}

/** The local crdt replica (DI token). */
export class CrdtUpstream extends HttpUpstream {}

/** The local gossip member (DI token). */
export class GossipUpstream extends HttpUpstream {}

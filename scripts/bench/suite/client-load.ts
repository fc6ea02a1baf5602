/**
 * The decision workloads' load generator: `clients` closed-loop workers calling decision-api
 * through @parley/client (the library agents use, with its validation, request ids, retries and
 * breakers), a fixed request count after a warm-up, bounded in time. Latency is the typed
 * method's, from call to decoded answer.
 */
import { closedLoop } from '@parley/common';
import { ParleyClient } from '@parley/client';
import type { HttpLoadResult } from './http-load';

export interface ClientLoadOptions {
  url: string;
  apiKey: string;
  clients: number;
  requests: number;
  seconds: number;
  warmup?: number;
  /** One operation; true when its answer counts as a success. */
  operation: (client: ParleyClient, n: number) => Promise<boolean>;
}

export async function clientLoad(options: ClientLoadOptions): Promise<HttpLoadResult> {
  const client = new ParleyClient({ endpoints: options.url, apiKey: options.apiKey });
  let firstFailure: string | undefined;
  const run = async (n: number) => {
    try {
      const ok = await options.operation(client, n);
      if (!ok) firstFailure ??= `operation ${n} answered an unexpected decision`;
      return ok;
    } catch (error) {
      firstFailure ??= `${(error as Error).name}: ${(error as Error).message}`;
      return false;
    }
  };
  try {
    const warmup = options.warmup ?? 0;
    if (warmup > 0) await closedLoop(options.clients, warmup, options.seconds, (n) => run(-1 - n));
    const result = await closedLoop(options.clients, options.requests, options.seconds, run);
    return { ...result, ...(firstFailure ? { firstFailure } : {}) };
  } finally {
    client.close();
  }
}

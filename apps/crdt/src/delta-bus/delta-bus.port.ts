/**
 * How crdt replicas reach each other. `broadcast` goes to every other replica; `sendTo` to one
 * (a transport that cannot address one replica broadcasts instead: joins are idempotent).
 * Bytes are sealed (HMAC, timestamp, replay check) by the caller.
 */
export interface DeltaBus {
  start(onBytes: (bytes: Uint8Array) => void): Promise<void>;
  broadcast(bytes: Uint8Array): void;
  sendTo(replicaId: string, bytes: Uint8Array): void;
  close(): Promise<void>;
  /** For /v1/crdt/status and readiness. */
  state(): { transport: string; connected: boolean; sendFailures: number; breaker?: string };
}

import { Channel } from '@parley/gossip';

/**
 * How sealed gossip bytes move between members. `packet` is best effort and small (UDP, or a
 * NATS publish); `stream` is reliable and may be large (TCP, for push-pull).
 */
export interface GossipTransport {
  /** Starts receiving; `onBytes` gets each packet or stream with the sender's address. */
  start(onBytes: (bytes: Uint8Array, fromAddress: string) => void): Promise<void>;
  send(to: string, channel: Channel, bytes: Uint8Array): void;
  close(): Promise<void>;
  /** Failures to send, counted (a packet to a dead member is expected to fail). */
  readonly sendFailures: number;
}

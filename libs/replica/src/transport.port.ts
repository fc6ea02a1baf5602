import type { Message } from '@parley/raft';

export interface PeerAddress {
  host: string;
  port: number;
}

/** The way to the other replicas. Sends never wait and may lose messages (Raft retries). */
export interface PeerTransportPort {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  send(messages: readonly Message[]): void;
  setPeerAddress(id: string, address: PeerAddress): void;
}

/** Builds the transport once the driver can take what arrives. */
export type PeerTransportFactory = (
  onMessage: (m: Message) => void,
  onUnreachable: (id: string) => void,
) => PeerTransportPort;

/** Peer addresses that outlive a restart (members added after bootstrap included). */
export interface AddressBookPort {
  get(id: string): PeerAddress | undefined;
  set(id: string, address: PeerAddress): void;
  entries(): ReadonlyMap<string, PeerAddress>;
}

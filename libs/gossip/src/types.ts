/**
 * The vocabulary of SWIM (Das et al., 2002) with Lifeguard (Dadgar et al., 2018): members, the
 * updates gossiped about them, and the messages members exchange. Plain data only.
 */
export type MemberId = string;

export enum MemberState {
  Alive = 'alive',
  Suspect = 'suspect',
  Dead = 'dead',
  Left = 'left',
}

/** What other apps read about a member: its role, where its apps listen, its version. */
export interface MemberMeta {
  role: 'replica' | 'agent' | 'api';
  /** Address of the member's apps (e.g. the HTTP port of decision-api), free-form host:port. */
  appAddress: string;
  version: string;
}

export interface Member {
  id: MemberId;
  /** Where the member's gossip transport listens, `host:port` (or a NATS inbox name). */
  address: string;
  meta: MemberMeta;
  /** Only the member itself raises it, to refute a suspicion or to announce new metadata. */
  incarnation: number;
  state: MemberState;
  /** Tick at which `state` last changed (for retention of dead members and for reports). */
  stateChangedTick: number;
}

/**
 * A membership update, disseminated by piggybacking on protocol messages. `dead` from the
 * member itself means it left gracefully.
 */
export type Update =
  | { kind: 'alive'; id: MemberId; incarnation: number; address: string; meta: MemberMeta }
  | { kind: 'suspect'; id: MemberId; incarnation: number; from: MemberId }
  | { kind: 'dead'; id: MemberId; incarnation: number; from: MemberId };

export type GossipMessage =
  /** Direct probe; the sender expects an ack with the same seq. `target` guards misdelivery. */
  | { type: 'ping'; seq: number; from: MemberId; target: MemberId; updates: Update[] }
  /** Asks `from`'s peer to probe `target` and relay the ack (or a nack) back. */
  | { type: 'ping-req'; seq: number; from: MemberId; target: MemberId; updates: Update[] }
  | { type: 'ack'; seq: number; from: MemberId; updates: Update[] }
  /** Lifeguard: the relay could not reach the target, but the relay itself is alive. */
  | { type: 'nack'; seq: number; from: MemberId }
  /** Gossip round: updates only. */
  | { type: 'gossip'; from: MemberId; updates: Update[] }
  /** Full-state exchange over the stream transport; `join` asks for a reply. */
  | { type: 'push-pull'; from: MemberId; reply: boolean; members: MemberSnapshot[] };

/** One member's record in a push-pull full-state exchange. */
export interface MemberSnapshot {
  id: MemberId;
  address: string;
  meta: MemberMeta;
  incarnation: number;
  state: MemberState;
}

/** `packet` is best-effort and small (UDP); `stream` is reliable and large (TCP push-pull). */
export type Channel = 'packet' | 'stream';

export interface Outbound {
  /** Transport address (host:port); joins go to seed addresses whose ids are unknown. */
  to: string;
  channel: Channel;
  message: GossipMessage;
}

export interface MembershipEvent {
  id: MemberId;
  from: MemberState | undefined;
  to: MemberState;
  incarnation: number;
  tick: number;
}

/** Injected randomness (seeded in the simulator). */
export interface GossipRandom {
  /** An integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

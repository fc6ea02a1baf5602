import { GossipRandom, MemberId, MemberMeta } from './types';

/**
 * Protocol parameters, in ticks (the adapter decides the tick length; 100 ms by default, so the
 * defaults are memberlist's LAN profile: 1 s probe interval, 500 ms probe timeout, 200 ms gossip
 * interval, 30 s push-pull).
 */
export interface SwimConfig {
  id: MemberId;
  /** This member's transport address as others should reach it. */
  address: string;
  meta: MemberMeta;
  random: GossipRandom;
  /** Ticks between the starts of two probes (one protocol period). */
  probeIntervalTicks: number;
  /** Ticks to wait for a direct ack before asking others to probe (ping-req). */
  probeTimeoutTicks: number;
  /** Members asked to probe indirectly (SWIM's k). */
  indirectChecks: number;
  /** Ticks between gossip rounds, and members gossiped to per round. */
  gossipIntervalTicks: number;
  gossipFanout: number;
  /** Each update is sent about retransmitMult·log10(n+1) times (SWIM's λ·log n). */
  retransmitMult: number;
  /** Suspicion lasts suspicionMult·log10(n)·probe interval when fully confirmed... */
  suspicionMult: number;
  /** ...and up to suspicionMaxTimeoutMult times that with no confirmation (Lifeguard). */
  suspicionMaxTimeoutMult: number;
  /** Lifeguard's local health multiplier saturates here (timeouts stretch up to this factor). */
  awarenessMax: number;
  /** Ticks between full-state push-pull syncs with a random member (scaled up past 32 members). */
  pushPullIntervalTicks: number;
  /** Ticks between attempts to reach a member believed dead (partition healing, as Serf does). */
  reconnectIntervalTicks: number;
  /** Dead and left members are forgotten after this many ticks. */
  deadRetentionTicks: number;
  /** The member table never grows past this; new members beyond it are refused and counted. */
  membersMax: number;
  /** Updates piggybacked on one packet, to stay under the packet size bound. */
  updatesPerMessageMax: number;
  /** Queued updates to disseminate; past this the most-sent ones are dropped. */
  broadcastQueueMax: number;
  /** Lifeguard's three refinements (local health, dynamic suspicion, buddy system) on or off. */
  lifeguard: boolean;
  /**
   * Our extension of Lifeguard's local health: a tick that reports a stall (the process was
   * not running) postpones the timers in flight instead of firing them. Only with lifeguard.
   */
  stallAwareness: boolean;
}

export type SwimConfigInit = Pick<SwimConfig, 'id' | 'address' | 'meta' | 'random'> &
  Partial<SwimConfig>;

export const SWIM_DEFAULTS = {
  probeIntervalTicks: 10,
  probeTimeoutTicks: 5,
  indirectChecks: 3,
  gossipIntervalTicks: 2,
  gossipFanout: 3,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMax: 8,
  pushPullIntervalTicks: 300,
  reconnectIntervalTicks: 100,
  deadRetentionTicks: 36_000,
  membersMax: 20_000,
  updatesPerMessageMax: 12,
  broadcastQueueMax: 20_000,
  lifeguard: true,
  stallAwareness: true,
} satisfies Omit<SwimConfig, 'id' | 'address' | 'meta' | 'random'>;

export function resolveSwimConfig(init: SwimConfigInit): SwimConfig {
  const config: SwimConfig = { ...SWIM_DEFAULTS, ...init };
  const positive: (keyof SwimConfig)[] = [
    'probeIntervalTicks',
    'probeTimeoutTicks',
    'gossipIntervalTicks',
    'retransmitMult',
    'suspicionMult',
    'suspicionMaxTimeoutMult',
    'awarenessMax',
    'pushPullIntervalTicks',
    'reconnectIntervalTicks',
    'deadRetentionTicks',
    'membersMax',
    'updatesPerMessageMax',
    'broadcastQueueMax',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
      throw new RangeError(`swim config ${key} must be a positive integer, got ${String(value)}`);
  }
  if (config.probeTimeoutTicks >= config.probeIntervalTicks)
    throw new RangeError('swim config probeTimeoutTicks must be shorter than probeIntervalTicks');
  return config;
}

/** SWIM's suspicion timeout with all confirmations in: mult · max(1, log10 n) · interval. */
export function suspicionTimeoutMinTicks(config: SwimConfig, members: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, members)));
  return Math.ceil(config.suspicionMult * scale * config.probeIntervalTicks);
}

/** Transmissions per update: mult · ceil(log10(n + 1)). */
export function retransmitLimit(config: SwimConfig, members: number): number {
  return config.retransmitMult * Math.ceil(Math.log10(members + 1));
}

/** memberlist's push-pull scaling: past 32 members the interval grows with log2(n / 32). */
export function pushPullIntervalTicks(config: SwimConfig, members: number): number {
  const threshold = 32;
  if (members <= threshold) return config.pushPullIntervalTicks;
  const multiplier = Math.ceil(Math.log2(members) - Math.log2(threshold)) + 1;
  return config.pushPullIntervalTicks * multiplier;
}

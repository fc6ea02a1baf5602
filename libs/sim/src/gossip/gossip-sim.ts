import {
  GossipMessage,
  MemberId,
  MemberState,
  MembershipEvent,
  Swim,
  SwimConfig,
} from '@parley/gossip';
import { EventQueue } from '../raft/event-queue';
import { Rng } from '../raft/rng';

/**
 * A deterministic, in-process network of SWIM members for 1,000s of members: seeded latency,
 * loss, crashes, partitions, and "slow" members that stall like a GC pause (while paused they
 * neither tick nor read; on waking they run the missed ticks first, then read what queued up,
 * which is exactly how a paused process ends up accusing healthy peers). Addresses are ids.
 */
export interface GossipSimOptions {
  seed: number;
  members: number;
  lifeguard: boolean;
  /** Real time per core tick. */
  tickMs?: number;
  latencyMsMin?: number;
  latencyMsMax?: number;
  /** Probability that a packet (not a stream message) is lost. */
  packetLoss?: number;
  /** Extra protocol settings for every member. */
  swim?: Partial<Omit<SwimConfig, 'id' | 'address' | 'meta' | 'random'>>;
  /** Start with every member knowing every other (no join traffic); default true. */
  preformed?: boolean;
}

interface SimMember {
  swim: Swim;
  crashed: boolean;
  /** Pauses: [start, end) windows in ms, generated lazily from `slow`. */
  slow?: { everyMs: number; pauseMs: number; phaseMs: number };
  /** Time the member last ran its ticks up to. */
  tickedUntilMs: number;
  group: number;
}

type SimEvent =
  | { kind: 'tick'; id: MemberId }
  | { kind: 'deliver'; to: MemberId; from: MemberId; message: GossipMessage };

export interface ObservedEvent extends MembershipEvent {
  observer: MemberId;
  atMs: number;
}

const META = { role: 'agent', appAddress: '', version: 'sim' } as const;

export class GossipSim {
  readonly tickMs: number;
  private readonly rng: Rng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<MemberId, SimMember>();
  readonly observed: ObservedEvent[] = [];
  private nowMs = 0;
  messagesDelivered = 0;
  messagesDropped = 0;

  constructor(private readonly options: GossipSimOptions) {
    this.rng = new Rng(options.seed);
    this.tickMs = options.tickMs ?? 100;
    const ids = Array.from({ length: options.members }, (_, i) => memberName(i));
    for (const id of ids) this.spawn(id);
    if (options.preformed ?? true) {
      for (const id of ids) {
        const swim = this.nodes.get(id)!.swim;
        for (const other of ids)
          if (other !== id)
            swim.addKnownMember({
              id: other,
              address: other,
              meta: META,
              incarnation: 0,
              state: MemberState.Alive,
            });
        swim.drain();
      }
    }
  }

  get now(): number {
    return this.nowMs;
  }

  ids(): MemberId[] {
    return [...this.nodes.keys()];
  }

  swim(id: MemberId): Swim {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no member ${id}`);
    return node.swim;
  }

  isCrashed(id: MemberId): boolean {
    return this.nodes.get(id)?.crashed ?? true;
  }

  /** Adds a member that joins through `seed` (its own push-pull to the seed). */
  join(id: MemberId, seed: MemberId): void {
    this.spawn(id);
    this.swim(id).join([seed]);
    this.flush(id);
  }

  crash(id: MemberId): void {
    this.nodes.get(id)!.crashed = true;
  }

  /** From now on the member stalls for pauseMs every everyMs (a GC pause, SIGSTOP). */
  slow(id: MemberId, pauseMs: number, everyMs: number): void {
    const node = this.nodes.get(id)!;
    node.slow = { pauseMs, everyMs, phaseMs: this.nowMs + this.rng.nextInt(everyMs) };
  }

  leave(id: MemberId): void {
    this.swim(id).leave();
    this.flush(id);
  }

  /** Members in different groups cannot exchange messages. */
  partition(groups: MemberId[][]): void {
    groups.forEach((group, g) => {
      for (const id of group) this.nodes.get(id)!.group = g + 1;
    });
  }

  heal(): void {
    for (const node of this.nodes.values()) node.group = 0;
  }

  /** Runs until `untilMs` or until `done` holds (checked every checkEveryMs); returns the time. */
  run(untilMs: number, done?: () => boolean, checkEveryMs = this.tickMs): number {
    let nextCheck = this.nowMs;
    for (;;) {
      const event = this.queue.pop();
      if (!event) break;
      if (event.time > untilMs) {
        this.queue.push(event.time, event.value);
        break;
      }
      this.nowMs = event.time;
      this.handle(event.value);
      if (done && this.nowMs >= nextCheck) {
        if (done()) return this.nowMs;
        nextCheck = this.nowMs + checkEveryMs;
      }
    }
    this.nowMs = Math.max(this.nowMs, untilMs);
    return this.nowMs;
  }

  /** The state member `observer` holds for `id` (undefined when unknown). */
  view(observer: MemberId, id: MemberId): MemberState | undefined {
    return this.swim(observer).member(id)?.state;
  }

  /** Running members. */
  running(): MemberId[] {
    return [...this.nodes].filter(([, n]) => !n.crashed).map(([id]) => id);
  }

  private spawn(id: MemberId): void {
    const random = this.rng.fork();
    const swim = new Swim({
      id,
      address: id,
      meta: META,
      random: { nextInt: (max) => random.nextInt(max) },
      lifeguard: this.options.lifeguard,
      ...this.options.swim,
    });
    this.nodes.set(id, { swim, crashed: false, tickedUntilMs: this.nowMs, group: 0 });
    this.record(id, swim.drain().events);
    this.queue.push(this.nowMs + this.rng.nextInt(this.tickMs) + 1, { kind: 'tick', id });
  }

  private handle(event: SimEvent): void {
    const id = event.kind === 'tick' ? event.id : event.to;
    const node = this.nodes.get(id)!;
    if (node.crashed) return;
    const resumeAt = this.pausedUntil(node);
    if (resumeAt !== undefined) {
      // Stalled: the event waits until the pause ends (a tick is not repeated: see below).
      if (event.kind === 'deliver') this.queue.push(resumeAt + 0.5, event);
      else this.queue.push(resumeAt, event);
      return;
    }
    if (event.kind === 'tick') {
      // On waking, the member learns how much time passed before it reads any queued message.
      const due = Math.max(1, Math.floor((this.nowMs - node.tickedUntilMs) / this.tickMs));
      node.swim.tick(due);
      node.tickedUntilMs += due * this.tickMs;
      this.queue.push(node.tickedUntilMs + this.tickMs, { kind: 'tick', id });
    } else {
      this.messagesDelivered += 1;
      node.swim.step(event.message, event.from);
    }
    this.flush(id);
  }

  private pausedUntil(node: SimMember): number | undefined {
    const slow = node.slow;
    if (!slow || this.nowMs < slow.phaseMs) return undefined;
    const offset = (this.nowMs - slow.phaseMs) % slow.everyMs;
    return offset < slow.pauseMs ? this.nowMs - offset + slow.pauseMs : undefined;
  }

  private flush(id: MemberId): void {
    const node = this.nodes.get(id)!;
    const { outbound, events } = node.swim.drain();
    this.record(id, events);
    const min = this.options.latencyMsMin ?? 1;
    const max = this.options.latencyMsMax ?? 5;
    for (const out of outbound) {
      const target = this.nodes.get(out.to);
      if (!target || target.group !== node.group) {
        this.messagesDropped += 1;
        continue;
      }
      if (out.channel === 'packet' && this.rng.chance(this.options.packetLoss ?? 0)) {
        this.messagesDropped += 1;
        continue;
      }
      this.queue.push(this.nowMs + this.rng.between(min, max), {
        kind: 'deliver',
        to: out.to,
        from: id,
        message: out.message,
      });
    }
  }

  private record(observer: MemberId, events: MembershipEvent[]): void {
    for (const e of events) this.observed.push({ ...e, observer, atMs: this.nowMs });
  }
}

export function memberName(i: number): MemberId {
  return `m${String(i).padStart(4, '0')}`;
}

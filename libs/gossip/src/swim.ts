import { assert } from '@parley/common';
import { Awareness } from './awareness';
import { BroadcastQueue } from './broadcast-queue';
import {
  SwimConfig,
  SwimConfigInit,
  pushPullIntervalTicks,
  resolveSwimConfig,
  retransmitLimit,
  suspicionTimeoutMinTicks,
} from './config';
import { Suspicion } from './suspicion';
import {
  Channel,
  GossipMessage,
  Member,
  MemberId,
  MemberSnapshot,
  MemberState,
  MembershipEvent,
  Outbound,
  Update,
} from './types';

/** The probe this member has in flight (one per protocol period). */
interface Probe {
  target: MemberId;
  seq: number;
  /** Direct ack deadline; past it, ask others (ping-req). */
  indirectAtTick: number;
  /** End of the period; past it without an ack, suspect the target. */
  deadlineTick: number;
  acked: boolean;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

/** A ping this member sends on behalf of another (ping-req); the ack or a nack goes back. */
interface Relay {
  originAddress: string;
  originSeq: number;
  deadlineTick: number;
}

const RELAYS_MAX = 1_024;
const PROBE_BACKOFF_MAX = 3;
const OUTBOUND_MAX = 100_000;

export interface SwimCounters {
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  suspicionsStarted: number;
  deadDeclared: number;
  refutations: number;
  membersRefused: number;
  misdirected: number;
  relaysDropped: number;
  outboundDropped: number;
  stalls: number;
}

/**
 * One SWIM member as a pure state machine: `tick()` advances time, `step()` takes a message,
 * `drain()` hands out the messages to send and the membership changes seen. Failure detection
 * by randomized round-robin probing (ping, then ping-req through k others), suspicion with
 * incarnation numbers and refutation, dissemination piggybacked on protocol messages, periodic
 * push-pull full-state sync, and Lifeguard's local health, dynamic suspicion and buddy rule.
 */
export class Swim {
  readonly config: SwimConfig;
  private nowTick = 0;
  private readonly table = new Map<MemberId, Member>();
  /** Other members alive or suspect, for O(1) random choice among 1,000s. */
  private readonly live: MemberId[] = [];
  private readonly liveIndex = new Map<MemberId, number>();
  private readonly broadcasts: BroadcastQueue;
  private readonly awareness: Awareness;
  private readonly suspicions = new Map<MemberId, Suspicion>();
  private readonly relays = new Map<number, Relay>();
  private probeOrder: MemberId[] = [];
  private probeIndex = 0;
  private probe: Probe | undefined;
  private nextSeq = 1;
  private nextProbeTick = 0;
  /** Probes of a member that failed in a row; its probe timeouts back off by 2^n. */
  private readonly probeFailures = new Map<MemberId, number>();
  private nextSuspicionExpiryTick = Number.POSITIVE_INFINITY;
  private nextGossipTick = 0;
  private nextPushPullTick: number;
  private nextReconnectTick: number;
  private leaving = false;
  private outbound: Outbound[] = [];
  private events: MembershipEvent[] = [];
  readonly counters: SwimCounters = {
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    suspicionsStarted: 0,
    deadDeclared: 0,
    refutations: 0,
    membersRefused: 0,
    misdirected: 0,
    relaysDropped: 0,
    outboundDropped: 0,
    stalls: 0,
  };

  constructor(init: SwimConfigInit) {
    this.config = resolveSwimConfig(init);
    this.broadcasts = new BroadcastQueue(this.config.broadcastQueueMax);
    this.awareness = new Awareness(this.config.awarenessMax);
    const self: Member = {
      id: this.config.id,
      address: this.config.address,
      meta: this.config.meta,
      incarnation: 0,
      state: MemberState.Alive,
      stateChangedTick: 0,
    };
    this.table.set(self.id, self);
    this.events.push({
      id: self.id,
      from: undefined,
      to: MemberState.Alive,
      incarnation: 0,
      tick: 0,
    });
    // Spread the periodic work of many members over the interval instead of all at once.
    this.nextProbeTick = this.config.random.nextInt(this.config.probeIntervalTicks);
    this.nextPushPullTick = this.config.random.nextInt(this.config.pushPullIntervalTicks) + 1;
    this.nextReconnectTick = this.config.random.nextInt(this.config.reconnectIntervalTicks) + 1;
  }

  get id(): MemberId {
    return this.config.id;
  }

  get tickCount(): number {
    return this.nowTick;
  }

  /** Lifeguard's local health score (0 = healthy). */
  get health(): number {
    return this.awareness.health;
  }

  members(): Member[] {
    return [...this.table.values()];
  }

  member(id: MemberId): Member | undefined {
    return this.table.get(id);
  }

  /** Members currently alive or suspect, this one included. */
  liveCount(): number {
    return this.live.length + 1;
  }

  /** Everything to send and every membership change since the last drain. */
  drain(): { outbound: Outbound[]; events: MembershipEvent[] } {
    const out = { outbound: this.outbound, events: this.events };
    this.outbound = [];
    this.events = [];
    return out;
  }

  /** Known members without contacting anyone: e.g. the simulator's pre-formed cluster. */
  addKnownMember(snapshot: MemberSnapshot): void {
    this.applyUpdate(
      {
        kind: 'alive',
        id: snapshot.id,
        incarnation: snapshot.incarnation,
        address: snapshot.address,
        meta: snapshot.meta,
      },
      false,
    );
  }

  /** Joins through seed addresses: a push-pull to each; their replies bring the full state. */
  join(seedAddresses: readonly string[]): void {
    for (const address of seedAddresses)
      if (address !== this.config.address) this.send(address, 'stream', this.pushPull(false));
  }

  /** Graceful leave: tell everyone, then the adapter stops after a few gossip rounds. */
  leave(): void {
    const self = this.self();
    this.leaving = true;
    this.applyUpdate({ kind: 'dead', id: self.id, incarnation: self.incarnation, from: self.id });
  }

  /** Updates still queued for dissemination (a leaving member waits for these to go out). */
  pendingBroadcasts(): number {
    return this.broadcasts.size;
  }

  /** Announces new metadata (e.g. a changed app address) with a new incarnation. */
  updateMeta(meta: Member['meta']): void {
    const self = this.self();
    self.incarnation += 1;
    self.meta = meta;
    this.broadcasts.enqueue({
      kind: 'alive',
      id: self.id,
      incarnation: self.incarnation,
      address: self.address,
      meta,
    });
  }

  /**
   * Advances time. `elapsedTicks` is how much time really passed since the last call (the
   * adapter measures it); more than one means this member was not running: a GC pause, a
   * SIGSTOP, an overloaded host. Plain SWIM just runs the missed ticks, so the probe in flight
   * times out before the ack waiting unread in the socket is seen, and a healthy peer is
   * accused. With Lifeguard on, a stall is a local health signal (our extension of its local
   * health awareness): the score rises, and the probe, relays and suspicion timers in flight
   * are pushed back by the stall, so nothing is judged by a clock that jumped.
   */
  tick(elapsedTicks = 1): void {
    assert(Number.isInteger(elapsedTicks) && elapsedTicks >= 1, 'elapsed ticks must be >= 1');
    if (elapsedTicks > 1 && !(this.config.lifeguard && this.config.stallAwareness)) {
      for (let i = 0; i < elapsedTicks; i += 1) this.tick();
      return;
    }
    if (elapsedTicks > 1) this.onStall(elapsedTicks - 1);
    this.nowTick += elapsedTicks;
    if (this.leaving) {
      this.gossipRound();
      return;
    }
    this.advanceProbe();
    if (this.nowTick >= this.nextProbeTick) this.startProbe();
    this.expireRelays();
    this.expireSuspicions();
    if (this.nowTick >= this.nextGossipTick) {
      this.gossipRound();
      this.nextGossipTick = this.nowTick + this.config.gossipIntervalTicks;
    }
    if (this.nowTick >= this.nextPushPullTick) {
      this.pushPullRound();
      this.nextPushPullTick = this.nowTick + pushPullIntervalTicks(this.config, this.liveCount());
    }
    if (this.nowTick >= this.nextReconnectTick) {
      this.reconnectRound();
      this.reapDead();
      this.nextReconnectTick = this.nowTick + this.config.reconnectIntervalTicks;
    }
  }

  private onStall(stalledTicks: number): void {
    this.counters.stalls += 1;
    this.awareness.applyDelta(1);
    if (this.probe) {
      this.probe.indirectAtTick += stalledTicks;
      this.probe.deadlineTick += stalledTicks;
    }
    for (const relay of this.relays.values()) relay.deadlineTick += stalledTicks;
    for (const suspicion of this.suspicions.values()) suspicion.postpone(stalledTicks);
    this.nextProbeTick += stalledTicks;
  }

  /** A message from the transport; `fromAddress` is where replies to unknown senders go. */
  step(message: GossipMessage, fromAddress: string): void {
    if (message.from === this.id) return;
    if (this.leaving && message.type !== 'push-pull') return;
    switch (message.type) {
      case 'ping':
        this.applyUpdates(message.updates);
        if (message.target !== this.id) {
          // A ping meant for an earlier owner of this address: answering would lie.
          this.counters.misdirected += 1;
          return;
        }
        this.send(fromAddress, 'packet', {
          type: 'ack',
          seq: message.seq,
          from: this.id,
          updates: this.takeUpdates(),
        });
        return;
      case 'ping-req':
        this.applyUpdates(message.updates);
        this.relayProbe(message.seq, message.target, fromAddress);
        return;
      case 'ack':
        this.applyUpdates(message.updates);
        this.onAck(message.seq);
        return;
      case 'nack':
        if (this.probe && this.probe.seq === message.seq) this.probe.nacks += 1;
        return;
      case 'gossip':
        this.applyUpdates(message.updates);
        return;
      case 'push-pull':
        this.mergeState(message.from, message.members);
        if (!message.reply && !this.leaving) {
          const sender = message.members.find((m) => m.id === message.from);
          this.send(sender?.address ?? fromAddress, 'stream', this.pushPull(true));
        }
        return;
    }
  }

  // ---- failure detection -------------------------------------------------------------

  /**
   * One probe per period. The period and ack timeout stretch with local health (Lifeguard)
   * and double for each probe of this target that failed in a row, up to 2^3 (so a member
   * that keeps flapping is given more time instead of being accused again and again).
   */
  private startProbe(): void {
    const target = this.nextProbeTarget();
    const backoff = 2 ** Math.min(this.probeFailures.get(target?.id ?? '') ?? 0, PROBE_BACKOFF_MAX);
    const interval = this.awareness.scale(this.config.probeIntervalTicks) * backoff;
    this.nextProbeTick = this.nowTick + interval;
    if (!target) return;
    const seq = this.nextSeq++;
    const timeout = this.awareness.scale(this.config.probeTimeoutTicks) * backoff;
    this.probe = {
      target: target.id,
      seq,
      indirectAtTick: this.nowTick + timeout,
      deadlineTick: this.nowTick + interval,
      acked: false,
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
    };
    this.counters.probes += 1;
    const updates: Update[] = [];
    // Lifeguard's buddy rule: a suspected member hears it from whoever probes it, at once.
    if (this.config.lifeguard && target.state === MemberState.Suspect)
      updates.push({
        kind: 'suspect',
        id: target.id,
        incarnation: target.incarnation,
        from: this.id,
      });
    updates.push(...this.takeUpdates(this.config.updatesPerMessageMax - updates.length));
    this.send(target.address, 'packet', {
      type: 'ping',
      seq,
      from: this.id,
      target: target.id,
      updates,
    });
  }

  private advanceProbe(): void {
    const probe = this.probe;
    if (!probe || probe.acked) return;
    const target = this.table.get(probe.target);
    if (!target || target.state === MemberState.Dead || target.state === MemberState.Left) {
      this.probe = undefined;
      return;
    }
    if (!probe.indirectSent && this.nowTick >= probe.indirectAtTick) {
      probe.indirectSent = true;
      const helpers = this.randomMembers(
        this.config.indirectChecks,
        (m) => m.id !== probe.target && m.state === MemberState.Alive,
      );
      for (const helper of helpers) {
        this.counters.indirectProbes += 1;
        this.send(helper.address, 'packet', {
          type: 'ping-req',
          seq: probe.seq,
          from: this.id,
          target: probe.target,
          updates: this.takeUpdates(),
        });
      }
      probe.expectedNacks = this.config.lifeguard ? helpers.length : 0;
    }
    if (this.nowTick >= probe.deadlineTick) {
      this.probe = undefined;
      this.counters.probesFailed += 1;
      this.probeFailures.set(target.id, (this.probeFailures.get(target.id) ?? 0) + 1);
      if (this.config.lifeguard) {
        // Missing nacks mean our own packets are not getting through: likely our fault.
        const missingNacks = probe.expectedNacks - probe.nacks;
        this.awareness.applyDelta(probe.expectedNacks > 0 ? Math.max(0, missingNacks) : 1);
      }
      this.applyUpdate({
        kind: 'suspect',
        id: target.id,
        incarnation: target.incarnation,
        from: this.id,
      });
    }
  }

  private onAck(seq: number): void {
    if (this.probe && this.probe.seq === seq && !this.probe.acked) {
      this.probe.acked = true;
      this.probeFailures.delete(this.probe.target);
      if (this.config.lifeguard) this.awareness.applyDelta(-1);
      return;
    }
    const relay = this.relays.get(seq);
    if (relay) {
      this.relays.delete(seq);
      this.send(relay.originAddress, 'packet', {
        type: 'ack',
        seq: relay.originSeq,
        from: this.id,
        updates: this.takeUpdates(),
      });
    }
  }

  private relayProbe(originSeq: number, targetId: MemberId, originAddress: string): void {
    const target = this.table.get(targetId);
    if (!target || target.state === MemberState.Dead || target.state === MemberState.Left) {
      if (this.config.lifeguard)
        this.send(originAddress, 'packet', { type: 'nack', seq: originSeq, from: this.id });
      return;
    }
    if (this.relays.size >= RELAYS_MAX) {
      this.counters.relaysDropped += 1;
      return;
    }
    const seq = this.nextSeq++;
    this.relays.set(seq, {
      originAddress,
      originSeq,
      deadlineTick: this.nowTick + this.config.probeTimeoutTicks,
    });
    this.send(target.address, 'packet', {
      type: 'ping',
      seq,
      from: this.id,
      target: targetId,
      updates: this.takeUpdates(),
    });
  }

  private expireRelays(): void {
    for (const [seq, relay] of this.relays) {
      if (this.nowTick < relay.deadlineTick) continue;
      this.relays.delete(seq);
      if (this.config.lifeguard)
        this.send(relay.originAddress, 'packet', {
          type: 'nack',
          seq: relay.originSeq,
          from: this.id,
        });
    }
  }

  /** Scans only when the earliest deadline may have come (1,000s of suspicions in a partition). */
  private expireSuspicions(): void {
    if (this.nowTick < this.nextSuspicionExpiryTick) return;
    this.nextSuspicionExpiryTick = Number.POSITIVE_INFINITY;
    for (const [id, suspicion] of this.suspicions) {
      if (!suspicion.expired(this.nowTick)) {
        this.noteSuspicionExpiry(suspicion);
        continue;
      }
      this.suspicions.delete(id);
      const member = this.table.get(id);
      if (!member || member.state !== MemberState.Suspect) continue;
      this.counters.deadDeclared += 1;
      this.applyUpdate({ kind: 'dead', id, incarnation: member.incarnation, from: this.id });
    }
  }

  /** Randomized round-robin: every member probed once per pass, in a fresh order each pass. */
  private nextProbeTarget(): Member | undefined {
    for (let attempts = 0; attempts <= this.probeOrder.length + 1; attempts += 1) {
      if (this.probeIndex >= this.probeOrder.length) {
        this.probeOrder = [...this.table.values()]
          .filter((m) => this.probeable(m))
          .map((m) => m.id);
        this.shuffle(this.probeOrder);
        this.probeIndex = 0;
        if (this.probeOrder.length === 0) return undefined;
      }
      const candidate = this.table.get(this.probeOrder[this.probeIndex++]);
      if (candidate && this.probeable(candidate)) return candidate;
    }
    return undefined;
  }

  private probeable(m: Member): boolean {
    return m.id !== this.id && (m.state === MemberState.Alive || m.state === MemberState.Suspect);
  }

  // ---- dissemination -------------------------------------------------------------------

  private takeUpdates(count = this.config.updatesPerMessageMax): Update[] {
    return this.broadcasts.take(count, retransmitLimit(this.config, this.table.size));
  }

  private gossipRound(): void {
    if (this.broadcasts.size === 0) return;
    const targets = this.randomMembers(this.config.gossipFanout, (m) => this.probeable(m));
    for (const target of targets) {
      const updates = this.takeUpdates();
      if (updates.length === 0) return;
      this.send(target.address, 'packet', { type: 'gossip', from: this.id, updates });
    }
  }

  private pushPullRound(): void {
    const [peer] = this.randomMembers(1, (m) => m.state === MemberState.Alive);
    if (peer) this.send(peer.address, 'stream', this.pushPull(false));
  }

  /** Serf's reconnect: try one member believed dead, so a healed partition merges again. */
  private reconnectRound(): void {
    const peer = this.randomDeadMember();
    if (peer) this.send(peer.address, 'stream', this.pushPull(false));
  }

  private pushPull(reply: boolean): GossipMessage {
    const members: MemberSnapshot[] = [];
    for (const m of this.table.values())
      members.push({
        id: m.id,
        address: m.address,
        meta: m.meta,
        incarnation: m.incarnation,
        state: m.state,
      });
    return { type: 'push-pull', from: this.id, reply, members };
  }

  /**
   * Merges a full state. A member the peer believes dead is only suspected here (memberlist's
   * rule): it gets the chance to refute before we give up on it. Left stays left. A view
   * relayed by push-pull is not an independent probe: it never confirms a suspicion and is
   * not gossiped on as a new accusation (its originator is already spreading it).
   */
  private mergeState(from: MemberId, members: readonly MemberSnapshot[]): void {
    for (const m of members) {
      switch (m.state) {
        case MemberState.Alive:
          this.applyUpdate({
            kind: 'alive',
            id: m.id,
            incarnation: m.incarnation,
            address: m.address,
            meta: m.meta,
          });
          break;
        case MemberState.Left:
          this.applyUpdate({ kind: 'dead', id: m.id, incarnation: m.incarnation, from: m.id });
          break;
        case MemberState.Suspect:
        case MemberState.Dead:
          if (this.table.get(m.id)?.state !== MemberState.Suspect)
            this.applyUpdate(
              { kind: 'suspect', id: m.id, incarnation: m.incarnation, from },
              false,
            );
          break;
      }
    }
  }

  // ---- the membership rules --------------------------------------------------------------

  private applyUpdates(updates: readonly Update[]): void {
    for (const update of updates) this.applyUpdate(update);
  }

  /** SWIM's rules for alive, suspect and dead, ordered by incarnation. */
  private applyUpdate(update: Update, rebroadcast = true): void {
    if (update.id === this.id) {
      this.onUpdateAboutSelf(update);
      return;
    }
    const member = this.table.get(update.id);
    switch (update.kind) {
      case 'alive': {
        if (!member) {
          if (this.table.size >= this.config.membersMax) {
            this.counters.membersRefused += 1;
            return;
          }
          this.table.set(update.id, {
            id: update.id,
            address: update.address,
            meta: update.meta,
            incarnation: update.incarnation,
            state: MemberState.Alive,
            stateChangedTick: this.nowTick,
          });
          this.addLive(update.id);
          this.insertIntoProbeOrder(update.id);
          this.emit(update.id, undefined, MemberState.Alive, update.incarnation);
          if (rebroadcast) this.broadcasts.enqueue(update);
          return;
        }
        if (update.incarnation <= member.incarnation) return;
        this.suspicions.delete(member.id);
        member.address = update.address;
        member.meta = update.meta;
        member.incarnation = update.incarnation;
        this.setState(member, MemberState.Alive);
        if (rebroadcast) this.broadcasts.enqueue(update);
        return;
      }
      case 'suspect': {
        if (!member || update.incarnation < member.incarnation) return;
        if (member.state === MemberState.Dead || member.state === MemberState.Left) return;
        if (member.state === MemberState.Suspect) {
          const suspicion = this.suspicions.get(member.id);
          if (suspicion && update.incarnation === suspicion.incarnation) {
            // Lifeguard: an independent confirmation shortens the timeout; pass it on.
            if (suspicion.confirm(update.from)) {
              this.noteSuspicionExpiry(suspicion);
              if (this.config.lifeguard) this.broadcasts.enqueue(update);
            }
            return;
          }
        }
        member.incarnation = update.incarnation;
        this.startSuspicion(member, update.from);
        this.setState(member, MemberState.Suspect);
        if (rebroadcast) this.broadcasts.enqueue(update);
        return;
      }
      case 'dead': {
        if (!member || update.incarnation < member.incarnation) return;
        if (member.state === MemberState.Dead || member.state === MemberState.Left) return;
        this.suspicions.delete(member.id);
        member.incarnation = update.incarnation;
        this.setState(member, update.from === update.id ? MemberState.Left : MemberState.Dead);
        this.broadcasts.enqueue(update);
        return;
      }
    }
  }

  /**
   * Only a member raises its own incarnation. Hearing itself suspected or declared dead, it
   * refutes with a higher incarnation (and, under Lifeguard, takes it as a sign that it is the
   * slow one); hearing an alive with a higher incarnation than its own (it restarted), it
   * overtakes it.
   */
  private onUpdateAboutSelf(update: Update): void {
    const self = this.self();
    if (this.leaving) {
      if (update.kind === 'dead' && update.from === this.id && self.state !== MemberState.Left) {
        this.setState(self, MemberState.Left);
        this.broadcasts.enqueue(update);
      }
      return;
    }
    // An alive at our own incarnation or below is our own news echoed back; anything that
    // claims a newer incarnation than ours (we restarted) or accuses us must be overtaken.
    if (
      update.kind === 'alive'
        ? update.incarnation <= self.incarnation
        : update.incarnation < self.incarnation
    )
      return;
    this.refute(update.incarnation);
  }

  private refute(accusedIncarnation: number): void {
    const self = this.self();
    self.incarnation = Math.max(self.incarnation, accusedIncarnation) + 1;
    this.counters.refutations += 1;
    if (this.config.lifeguard) this.awareness.applyDelta(1);
    this.broadcasts.enqueue({
      kind: 'alive',
      id: self.id,
      incarnation: self.incarnation,
      address: self.address,
      meta: self.meta,
    });
  }

  private noteSuspicionExpiry(suspicion: Suspicion): void {
    this.nextSuspicionExpiryTick = Math.min(
      this.nextSuspicionExpiryTick,
      suspicion.startTick + suspicion.timeoutTicks(),
    );
  }

  private startSuspicion(member: Member, accuser: MemberId): void {
    const n = this.liveCount();
    let k = this.config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const minTicks = suspicionTimeoutMinTicks(this.config, n);
    const maxTicks = this.config.lifeguard
      ? minTicks * this.config.suspicionMaxTimeoutMult
      : minTicks;
    const suspicion = new Suspicion(
      member.incarnation,
      this.nowTick,
      k,
      minTicks,
      maxTicks,
      accuser,
    );
    this.suspicions.set(member.id, suspicion);
    this.noteSuspicionExpiry(suspicion);
    this.counters.suspicionsStarted += 1;
  }

  private setState(member: Member, state: MemberState): void {
    if (member.state === state) return;
    const from = member.state;
    member.state = state;
    if (member.id !== this.id) {
      const isLive = state === MemberState.Alive || state === MemberState.Suspect;
      if (isLive) this.addLive(member.id);
      else this.removeLive(member.id);
    }
    member.stateChangedTick = this.nowTick;
    this.emit(member.id, from, state, member.incarnation);
  }

  private emit(
    id: MemberId,
    from: MemberState | undefined,
    to: MemberState,
    incarnation: number,
  ): void {
    this.events.push({ id, from, to, incarnation, tick: this.nowTick });
  }

  private reapDead(): void {
    for (const [id, m] of this.table) {
      if (m.id === this.id) continue;
      if (m.state !== MemberState.Dead && m.state !== MemberState.Left) continue;
      if (this.nowTick - m.stateChangedTick >= this.config.deadRetentionTicks) {
        this.table.delete(id);
        this.probeFailures.delete(id);
      }
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private self(): Member {
    const self = this.table.get(this.id);
    assert(self !== undefined, 'a member always knows itself');
    return self;
  }

  private send(to: string, channel: Channel, message: GossipMessage): void {
    if (this.outbound.length >= OUTBOUND_MAX) {
      // The adapter drains after every call; reaching this means it stopped draining.
      this.counters.outboundDropped += 1;
      return;
    }
    this.outbound.push({ to, channel, message });
  }

  private insertIntoProbeOrder(id: MemberId): void {
    // memberlist inserts a newcomer at a random place, so it is probed within one pass.
    const at =
      this.probeIndex + this.config.random.nextInt(this.probeOrder.length - this.probeIndex + 1);
    this.probeOrder.splice(at, 0, id);
  }

  private shuffle(items: MemberId[]): void {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = this.config.random.nextInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
  }

  private addLive(id: MemberId): void {
    if (this.liveIndex.has(id)) return;
    this.liveIndex.set(id, this.live.length);
    this.live.push(id);
  }

  private removeLive(id: MemberId): void {
    const at = this.liveIndex.get(id);
    if (at === undefined) return;
    const last = this.live.pop()!;
    this.liveIndex.delete(id);
    if (last !== id) {
      this.live[at] = last;
      this.liveIndex.set(last, at);
    }
  }

  /**
   * Up to `count` distinct live members passing `accept`, chosen uniformly: a few random
   * draws when the pool is large, a partial shuffle of the whole pool when it is small.
   */
  private randomMembers(count: number, accept: (m: Member) => boolean): Member[] {
    const chosen: Member[] = [];
    if (this.live.length > count * 8) {
      const seen = new Set<MemberId>();
      for (let draw = 0; draw < count * 4 && chosen.length < count; draw += 1) {
        const id = this.live[this.config.random.nextInt(this.live.length)];
        if (seen.has(id)) continue;
        seen.add(id);
        const m = this.table.get(id)!;
        if (accept(m)) chosen.push(m);
      }
      return chosen;
    }
    const pool = this.live.map((id) => this.table.get(id)!).filter(accept);
    const take = Math.min(count, pool.length);
    for (let i = 0; i < take; i += 1) {
      const j = i + this.config.random.nextInt(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, take);
  }

  /** Members believed dead (not left), for reconnect attempts; a scan, but a rare one. */
  private randomDeadMember(): Member | undefined {
    const dead = [...this.table.values()].filter((m) => m.state === MemberState.Dead);
    return dead.length > 0 ? dead[this.config.random.nextInt(dead.length)] : undefined;
  }
}

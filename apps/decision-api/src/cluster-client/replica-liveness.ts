import { assert } from '@parley/common';

/**
 * How decision-api tells a replica that is slow from one that is silent (SIGSTOP, a long GC
 * pause, a frozen host), as etcd's clientv3 does with its keepalive: a request may legitimately
 * wait up to the commit timeout for its answer, but a live replica answers a status request at
 * once, whatever its requests wait for.
 */
export interface ReplicaLivenessOptions {
  /**
   * Milliseconds a replica may answer nothing while requests are out to it before it is asked
   * its status. Under load a live replica answers something every few milliseconds.
   */
  silentAfterMs: number;
  /** Milliseconds a status probe may take; unanswered, the replica is silent. */
  probeTimeoutMs: number;
  /**
   * Milliseconds between probes of a suspect replica (one that did not answer a probe); the first
   * probe it answers clears the suspicion.
   */
  suspectProbeIntervalMs: number;
}

/**
 * The defaults of PARLEY_RPC_SILENT_AFTER_MS, PARLEY_RPC_PROBE_TIMEOUT_MS and
 * PARLEY_RPC_SUSPECT_PROBE_MS. A request waits at a frozen replica about 0.5 s; a live replica
 * would have to stall its event loop for as long to be taken for silent, and a leader that
 * stalls that long has lost its leadership anyway with the default election timeout (100-200 ms).
 */
export const REPLICA_LIVENESS_DEFAULTS: ReplicaLivenessOptions = {
  silentAfterMs: 300,
  probeTimeoutMs: 200,
  suspectProbeIntervalMs: 250,
};

/** The replica answered no status probe: its requests were abandoned (outcome unknown). */
export class ReplicaSilentError extends Error {
  constructor(
    readonly address: string,
    readonly silentMs: number,
  ) {
    super(`command-log ${address} answered nothing for ${Math.round(silentMs)} ms`);
    this.name = 'ReplicaSilentError';
  }
}

/** The replica answered its probe but no longer leads: what needs the leader moves on. */
export class ReplicaDeposedError extends Error {
  constructor(
    readonly address: string,
    readonly role: string,
  ) {
    super(`command-log ${address} is ${role}, no longer the leader`);
    this.name = 'ReplicaDeposedError';
  }
}

/** What a probe learns of a replica (a part of its status). */
export interface ProbeAnswer {
  role: string;
}

interface Pending {
  needsLeader: boolean;
  abandon: (error: Error) => void;
}

interface Watched {
  /** Calls out to the replica; each is abandoned when the replica goes silent. */
  readonly pending: Set<Pending>;
  /** When the replica last answered anything (or when it was last expected to start). */
  lastHeardMs: number;
  lastProbeMs: number;
  probing: boolean;
  suspect: boolean;
}

/**
 * Watches the replicas that have requests out: when one has answered nothing for
 * `silentAfterMs`, it is asked its status with a `probeTimeoutMs` bound. No answer: the replica
 * is silent, every request out to it is abandoned (the caller resends it elsewhere with the same
 * requestId, or answers 504), and it is suspect until it answers a probe again (one every
 * `suspectProbeIntervalMs`), so callers route around it meanwhile. An answer saying it no longer
 * leads abandons the requests that need the leader. A request thus waits at a frozen replica at
 * most silentAfterMs + probeTimeoutMs (+ one check interval), far below the commit timeout.
 */
export class ReplicaLiveness {
  private readonly replicas = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private abandoned = 0;
  private readonly checkEveryMs: number;

  constructor(
    /** One status request to `address`; rejects when it is not answered within probeTimeoutMs. */
    private readonly probe: (address: string) => Promise<ProbeAnswer>,
    private readonly options: ReplicaLivenessOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    assertPositive(options);
    this.checkEveryMs = Math.max(
      5,
      Math.min(options.silentAfterMs, options.suspectProbeIntervalMs) / 4,
    );
  }

  /** A replica that did not answer its last probe; callers send elsewhere while another can. */
  isSuspect(address: string): boolean {
    return this.replicas.get(address)?.suspect ?? false;
  }

  /**
   * The outcome of `call`, a request out to `address`, unless the replica goes silent first
   * (ReplicaSilentError) or, when the request `needsLeader`, says it no longer leads
   * (ReplicaDeposedError). An abandoned call goes on underneath; its late outcome is ignored.
   */
  watch<T>(address: string, call: Promise<T>, needsLeader: boolean): Promise<T> {
    const replica = this.replicaAt(address);
    // Silence counts from when an answer was first expected, not from an idle stretch before.
    if (replica.pending.size === 0) replica.lastHeardMs = Math.max(replica.lastHeardMs, this.now());
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        needsLeader,
        abandon: (error) => {
          replica.pending.delete(pending);
          this.abandoned += 1;
          reject(error);
        },
      };
      replica.pending.add(pending);
      this.arm();
      call.then(
        (value) => {
          replica.lastHeardMs = this.now();
          if (replica.pending.delete(pending)) resolve(value);
        },
        (error: unknown) => {
          if (replica.pending.delete(pending)) reject(error);
        },
      );
    });
  }

  /** Requests abandoned so far at silent or deposed replicas (a metric). */
  get requestsAbandoned(): number {
    return this.abandoned;
  }

  /** Every replica address seen, with whether it is suspect now (a metric). */
  suspicion(): Map<string, boolean> {
    return new Map([...this.replicas].map(([address, r]) => [address, r.suspect]));
  }

  /** Stops the checks (shutdown); calls still out keep their own transport timeouts. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private replicaAt(address: string): Watched {
    let replica = this.replicas.get(address);
    if (!replica) {
      replica = {
        pending: new Set(),
        lastHeardMs: 0,
        lastProbeMs: 0,
        probing: false,
        suspect: false,
      };
      this.replicas.set(address, replica);
    }
    return replica;
  }

  /** The checks run only while something is out or suspect: an idle client keeps no timer. */
  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.checkEveryMs);
    this.timer.unref();
  }

  private check(): void {
    const now = this.now();
    let watching = false;
    for (const [address, replica] of this.replicas) {
      watching ||= replica.pending.size > 0 || replica.suspect || replica.probing;
      if (replica.probing) continue;
      const due = replica.suspect
        ? now - replica.lastProbeMs >= this.options.suspectProbeIntervalMs
        : replica.pending.size > 0 && now - replica.lastHeardMs >= this.options.silentAfterMs;
      if (due) this.probeNow(address, replica);
    }
    if (!watching) this.close();
  }

  private probeNow(address: string, replica: Watched): void {
    replica.probing = true;
    replica.lastProbeMs = this.now();
    this.probe(address).then(
      (answer) => {
        replica.probing = false;
        replica.suspect = false;
        replica.lastHeardMs = this.now();
        if (answer.role === 'leader') return;
        for (const pending of [...replica.pending])
          if (pending.needsLeader) pending.abandon(new ReplicaDeposedError(address, answer.role));
      },
      () => {
        replica.probing = false;
        replica.suspect = true;
        const silentMs = this.now() - replica.lastHeardMs;
        for (const pending of [...replica.pending])
          pending.abandon(new ReplicaSilentError(address, silentMs));
      },
    );
  }
}

/** Config validated these; a zero here would probe every replica without pause. */
function assertPositive(options: ReplicaLivenessOptions): void {
  for (const [name, value] of Object.entries(options))
    assert(Number.isFinite(value) && value > 0, `ReplicaLiveness ${name} is ${value}`);
}

import { NodeId } from '@parley/raft';
import { Rng } from './rng';

export interface StallWorld {
  rng: Rng;
  /** Runs `run` this many virtual milliseconds from now. */
  later(ms: number, run: () => void): void;
  /** The replica that believes it leads now, if any. */
  leader(): NodeId | undefined;
  /** Virtual milliseconds until the faults stop (a stall must end by then). */
  faultsLeftMs(): number;
  pause(id: NodeId): void;
  /** Ends the pause; the simulation runs what it held in a random order. */
  resume(id: NodeId): void;
  trace(line: string): void;
}

/**
 * The leader's process is paused again and again (SIGSTOP, a long GC pause) for 1.5 to 4
 * election timeouts while the clients go on writing and reading under the lease. The followers
 * count that time and elect another leader, who commits writes; the paused one, on resuming,
 * gets one late tick for all it missed, so by its tick count its lease still holds. What it held
 * meanwhile (that tick, the new leader's messages, the clients' requests) runs in a random order,
 * so in some runs a lease read is answered before the messages that would depose it: only the
 * replica's real-time check of the lease stands between that read and a stale answer.
 */
export class StallScenario {
  stalls = 0;

  constructor(
    private readonly world: StallWorld,
    private readonly electionTimeoutMs: number,
  ) {}

  start(): void {
    this.stallSoon();
  }

  private stallSoon(): void {
    const { rng } = this.world;
    // Long enough between stalls for a leader to be elected and its lease to be established.
    this.world.later(rng.between(1, 3) * this.electionTimeoutMs, () => {
      const pauseMs = rng.between(1.5, 4) * this.electionTimeoutMs;
      // A stall still running in the quiet period would be blamed on the replicas' liveness.
      if (pauseMs >= this.world.faultsLeftMs()) return;
      const leader = this.world.leader();
      if (leader === undefined) return this.stallSoon();
      this.stalls += 1;
      this.world.trace(`stall: ${leader} paused for ${pauseMs.toFixed(0)} ms`);
      this.world.pause(leader);
      this.world.later(pauseMs, () => {
        this.world.trace(`stall: ${leader} resumes`);
        this.world.resume(leader);
        this.stallSoon();
      });
    });
  }
}

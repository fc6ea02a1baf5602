import { NodeId } from '@parley/raft';
import { SimNetwork } from './network';
import { Rng } from './rng';

export interface ScenarioWorld {
  ids: readonly NodeId[];
  network: SimNetwork;
  rng: Rng;
  /** Runs `run` this many virtual milliseconds from now. */
  later(ms: number, run: () => void): void;
  /** Whether `id` still leads `term`. */
  isLeader(id: NodeId, term: number): boolean;
  trace(line: string): void;
}

/**
 * Raft's Figure 8 (§5.4.2) played with partitions on five replicas, reacting to whoever wins
 * each election; the delays are random, so each seed plays it differently:
 *   1. the first leader A is cut off with one follower P soon after its election, holding an
 *      entry at some index i the others may lack;
 *   2. the others elect B, which is cut off alone at once: its own entry at i (a later term)
 *      stays on B only; A and P rejoin the rest;
 *   3. A or P is elected again (a later term still) and sends its old entry at i to the rest;
 *      a few milliseconds in (after that entry's acknowledgements, perhaps before those of
 *      its new term's entry) it is cut off alone and B rejoins;
 *   4. B, whose entry at i has a later term than the old one, can win. With the real commit
 *      rule the old entry was not committed, and B may overwrite it; a leader that committed it
 *      by counting replicas has applied what B now replaces, and the checks say so.
 * Then the network heals and the cluster must recover (liveness is checked as usual).
 */
export class Figure8Scenario {
  private stage: 'first-leader' | 'second-leader' | 'old-leader-again' | 'done' = 'first-leader';
  private first: NodeId | undefined;
  private partner: NodeId | undefined;
  cuts = 0;

  constructor(private readonly world: ScenarioWorld) {}

  leaderElected(id: NodeId, term: number): void {
    const { ids, rng } = this.world;
    switch (this.stage) {
      case 'first-leader': {
        this.stage = 'second-leader';
        this.first = id;
        this.partner = rng.pick(ids.filter((other) => other !== id));
        this.cutSoon(id, term, rng.between(1, 6), [id, this.partner]);
        break;
      }
      case 'second-leader':
        if (id === this.first || id === this.partner) return;
        this.stage = 'old-leader-again';
        this.cutSoon(id, term, rng.between(0.5, 3), [id]);
        break;
      case 'old-leader-again':
        if (id !== this.first && id !== this.partner) return;
        this.stage = 'done';
        this.cutSoon(id, term, rng.between(2, 30), [id]);
        this.world.later(rng.between(400, 900), () => {
          this.world.trace('figure 8: the network heals');
          this.world.network.heal();
        });
        break;
      case 'done':
        break;
    }
  }

  /** Cuts `group` off from the rest after `ms`, if `leader` still leads `term` by then. */
  private cutSoon(leader: NodeId, term: number, ms: number, group: NodeId[]): void {
    this.world.later(ms, () => {
      if (!this.world.isLeader(leader, term)) return;
      this.cuts += 1;
      this.world.network.heal();
      const rest = this.world.ids.filter((id) => !group.includes(id));
      this.world.network.partition([group, rest]);
      this.world.trace(
        `figure 8: ${group.join(', ')} cut off from ${rest.join(', ')} (term ${term})`,
      );
    });
  }
}

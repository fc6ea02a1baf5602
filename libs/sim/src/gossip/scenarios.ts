import { MemberState } from '@parley/gossip';
import { GossipSim, memberName } from './gossip-sim';

/**
 * The false-positive scenario of the gossip issue: 10% of the members stall for 2 s (four
 * probe timeouts) every 5 s, like long GC pauses, for 30 s. Returns how many times a member
 * marked a healthy member dead, and a slowed one.
 */
export function slowedMembersRun(
  seed: number,
  members: number,
  lifeguard: boolean,
  stallAwareness = true,
): { healthyDead: number; slowDead: number } {
  const sim = new GossipSim({ seed, members, lifeguard, swim: { stallAwareness } });
  sim.run(2_000);
  const slowed = new Set<string>();
  for (let i = 0; i < members; i += 10) {
    slowed.add(memberName(i + 3));
    sim.slow(memberName(i + 3), 2_000, 5_000);
  }
  sim.run(30_000);
  const dead = sim.observed.filter((e) => e.to === MemberState.Dead);
  return {
    healthyDead: dead.filter((e) => !slowed.has(e.id)).length,
    slowDead: dead.filter((e) => slowed.has(e.id)).length,
  };
}

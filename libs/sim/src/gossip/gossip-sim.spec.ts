import { MemberState } from '@parley/gossip';
import { GossipSim, memberName } from './gossip-sim';
import { slowedMembersRun } from './scenarios';

/**
 * SWIM + Lifeguard at 1,000 members in the deterministic simulator (100 ms ticks, 1 s protocol
 * period). Bounds are in protocol periods; the seeds are fixed, so a failure replays exactly.
 */
jest.setTimeout(180_000);

const PERIOD_MS = 1_000;
const N = 1_000;

function everyone(sim: GossipSim, id: string, state: MemberState, observers = sim.running()) {
  return () => observers.every((o) => o === id || sim.view(o, id) === state);
}

describe('gossip simulation at 1,000 members', () => {
  it('a crashed member is suspected by someone, then marked dead by every member', () => {
    const sim = new GossipSim({ seed: 11, members: N, lifeguard: true });
    sim.run(3 * PERIOD_MS);
    const victim = memberName(123);
    sim.crash(victim);
    const crashedAt = sim.now;
    const allDeadAt = sim.run(
      crashedAt + 120 * PERIOD_MS,
      everyone(sim, victim, MemberState.Dead),
      PERIOD_MS / 2,
    );
    const firstSuspicion = sim.observed.find(
      (e) => e.id === victim && e.to === MemberState.Suspect,
    );
    expect(firstSuspicion).toBeDefined();
    expect((firstSuspicion!.atMs - crashedAt) / PERIOD_MS).toBeLessThanOrEqual(5);
    // Unconfirmed, a suspicion lasts 72 periods at n=1,000; confirmations bring it to ~12.
    expect(everyone(sim, victim, MemberState.Dead)()).toBe(true);
    expect((allDeadAt - crashedAt) / PERIOD_MS).toBeLessThanOrEqual(40);
    // Nobody else was declared dead along the way.
    expect(sim.observed.filter((e) => e.to === MemberState.Dead && e.id !== victim)).toEqual([]);
  });

  it('a join through one seed reaches every member', () => {
    const sim = new GossipSim({ seed: 12, members: N, lifeguard: true });
    sim.run(2 * PERIOD_MS);
    sim.join('newcomer', memberName(5));
    const joinedAt = sim.now;
    const reachedAt = sim.run(
      joinedAt + 60 * PERIOD_MS,
      everyone(sim, 'newcomer', MemberState.Alive),
      PERIOD_MS / 10,
    );
    expect(everyone(sim, 'newcomer', MemberState.Alive)()).toBe(true);
    expect((reachedAt - joinedAt) / PERIOD_MS).toBeLessThanOrEqual(10);
    // The newcomer learned the whole membership from the seed's push-pull.
    expect(sim.swim('newcomer').liveCount()).toBe(N + 1);
  });

  it('no false positive: with 10% of members slowed, Lifeguard declares no healthy member dead', () => {
    const withLifeguard = slowedMembersRun(13, N, true);
    expect(withLifeguard.healthyDead).toBe(0);
    // The same seed without Lifeguard: slow members accuse healthy ones, suspicion storms
    // saturate dissemination, and healthy members are declared dead.
    const without = slowedMembersRun(13, N, false);
    expect(without.healthyDead).toBeGreaterThan(0);
  });

  it('after a partition heals, every view converges to all alive', () => {
    const sim = new GossipSim({ seed: 14, members: N, lifeguard: true });
    sim.run(2 * PERIOD_MS);
    const ids = sim.ids();
    const left = ids.slice(0, N / 2);
    const right = ids.slice(N / 2);
    sim.partition([left, right]);
    const splitAt = sim.run(
      sim.now + 200 * PERIOD_MS,
      () =>
        left.every((x) => sim.view(x, right[0]) === MemberState.Dead) &&
        right.every((x) => sim.view(x, left[0]) === MemberState.Dead),
      PERIOD_MS,
    );
    expect(sim.view(left[1], right[1])).toBe(MemberState.Dead);
    sim.heal();
    const converged = () =>
      ids.every((x) => ids.every((y) => sim.view(x, y) === MemberState.Alive));
    const healedAt = sim.run(splitAt + 200 * PERIOD_MS, converged, PERIOD_MS);
    expect(converged()).toBe(true);
    expect((healedAt - splitAt) / PERIOD_MS).toBeLessThanOrEqual(120);
  });
});

/**
 * Gossip figures from the deterministic simulator (npm run bench:gossip): for n = 10, 100,
 * 1,000 members, time from a crash to the first suspicion and to every member marking it dead,
 * and how long a join takes to reach every member (in protocol periods and gossip rounds);
 * then false positives with 10% of members slowed, with and without Lifeguard, on one seed.
 * Prints figures; asserts nothing.
 */
import { MemberState } from '../../libs/gossip/src';
import { GossipSim, memberName, slowedMembersRun } from '../../libs/sim/src/gossip';

const PERIOD_MS = 1_000;
const GOSSIP_ROUND_MS = 200;
const SEEDS = [1, 2, 3];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function detection(n: number, seed: number): { suspectS: number; allDeadS: number; joinS: number } {
  const sim = new GossipSim({ seed, members: n, lifeguard: true });
  sim.run(3 * PERIOD_MS);
  const victim = memberName(n - 1);
  sim.crash(victim);
  const crashedAt = sim.now;
  const allDeadAt = sim.run(
    crashedAt + 300 * PERIOD_MS,
    () => sim.running().every((id) => sim.view(id, victim) === MemberState.Dead),
    PERIOD_MS / 10,
  );
  const suspected = sim.observed.find((e) => e.id === victim && e.to === MemberState.Suspect);
  sim.join('joiner', memberName(0));
  const joinAt = sim.now;
  const reachedAt = sim.run(
    joinAt + 120 * PERIOD_MS,
    () => sim.running().every((id) => sim.view(id, 'joiner') === MemberState.Alive),
    GOSSIP_ROUND_MS / 4,
  );
  return {
    suspectS: ((suspected?.atMs ?? NaN) - crashedAt) / 1000,
    allDeadS: (allDeadAt - crashedAt) / 1000,
    joinS: (reachedAt - joinAt) / 1000,
  };
}

console.log('SWIM + Lifeguard in the simulator: 100 ms ticks, 1 s period, 200 ms gossip rounds');
console.log('(median of seeds ' + SEEDS.join(', ') + '; times from the event)');
for (const n of [10, 100, 1_000]) {
  const runs = SEEDS.map((seed) => detection(n, seed));
  const suspect = median(runs.map((r) => r.suspectS));
  const allDead = median(runs.map((r) => r.allDeadS));
  const join = median(runs.map((r) => r.joinS));
  console.log(
    `n=${String(n).padStart(4)}  first suspicion ${suspect.toFixed(1)} s  ` +
      `all mark dead ${allDead.toFixed(1)} s  join reaches all ${join.toFixed(1)} s ` +
      `(${(join / (GOSSIP_ROUND_MS / 1000)).toFixed(0)} gossip rounds)`,
  );
}
for (const n of [100, 1_000]) {
  const on = slowedMembersRun(13, n, true);
  const noStall = slowedMembersRun(13, n, true, false);
  const off = slowedMembersRun(13, n, false);
  console.log(
    `n=${String(n).padStart(4)}  10% slowed (2 s stall every 5 s) for 30 s, seed 13 — dead marks ` +
      `of healthy / slowed members: Lifeguard ${on.healthyDead} / ${on.slowDead}, ` +
      `Lifeguard without stall awareness ${noStall.healthyDead} / ${noStall.slowDead}, ` +
      `plain SWIM ${off.healthyDead} / ${off.slowDead}`,
  );
}

import { RaftLog } from '../../../raft/src/log';
import { ReplicaDriver } from '@parley/replica';
import { runSimulation, SimulationResult } from './cluster-sim';

/**
 * The replica driver command-log runs (libs/replica, with the Raft core inside) under the
 * deterministic simulator: random seeds with partitions (symmetric and one-way), crashes and
 * power losses that tear or lose what was not synced, restarts through the driver's recovery,
 * message loss, duplication, reordering and delay, leadership transfers and ±10% clock skew. Every run is checked for
 * election safety, state machine safety, leader completeness, linearizability of the client
 * history and liveness after the faults stop. A failure names its seed and replay command.
 */
const SEEDS = 240;
// Runs are async (the replica driver awaits its ports) but take no wall time of their own: a
// loaded machine only slows them, so the limit is generous.
jest.setTimeout(300_000);
const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1);
const nodesFor = (seed: number): 3 | 5 => (seed % 2 === 1 ? 3 : 5);

function explain(result: SimulationResult): string {
  return result.violations.length === 0
    ? 'no violations'
    : `seed ${result.seed} failed; replay with: ${result.replay}\n${result.violations.join('\n')}`;
}

describe('Raft under the deterministic simulator', () => {
  const totals = { ops: 0, unknown: 0, faults: 0, leaderChanges: 0, powerLosses: 0 };

  it.each(seeds)('seed %i keeps every safety and liveness property', async (seed) => {
    const result = await runSimulation({ seed, nodeCount: nodesFor(seed) });
    expect(explain(result)).toBe('no violations');
    // A run that decided nothing or injected no fault proves nothing.
    expect(result.opsCompleted).toBeGreaterThan(50);
    expect(result.faultsInjected).toBeGreaterThan(0);
    totals.ops += result.opsChecked;
    totals.unknown += result.opsUnknown;
    totals.faults += result.faultsInjected;
    totals.leaderChanges += result.leaderChanges;
    totals.powerLosses += result.powerLosses;
  });

  it('checked a meaningful amount of work across the seeds', () => {
    expect(totals.ops).toBeGreaterThan(SEEDS * 100);
    expect(totals.faults).toBeGreaterThan(SEEDS * 5);
    expect(totals.leaderChanges).toBeGreaterThan(SEEDS);
    expect(totals.unknown).toBeGreaterThan(0);
    // Replicas lost power mid-write (leaders after their early send), and nothing above broke.
    expect(totals.powerLosses).toBeGreaterThan(SEEDS / 4);
  });

  it('is deterministic: one seed, one run', async () => {
    const first = await runSimulation({ seed: 4242, nodeCount: 5 });
    const second = await runSimulation({ seed: 4242, nodeCount: 5 });
    expect(second).toEqual(first);
  });

  it('replay: runs the seed in RAFT_SIM_SEED (or a fixed one) with full checks', async () => {
    const seed = Number(process.env.RAFT_SIM_SEED ?? 77);
    const nodeCount = process.env.RAFT_SIM_NODES === '5' ? 5 : nodesFor(seed);
    const result = await runSimulation({ seed, nodeCount });
    expect(explain(result)).toBe('no violations');
  });

  /** The seeds among `candidates` whose run ends in a violation. */
  async function caughtAmong(
    candidates: number[],
    options: Partial<Parameters<typeof runSimulation>[0]>,
  ): Promise<number[]> {
    const caught: number[] = [];
    for (const seed of candidates) {
      const result = await runSimulation({ seed, nodeCount: nodesFor(seed), ...options });
      if (result.violations.length > 0) caught.push(seed);
    }
    return caught;
  }

  it('has teeth: a replica that loses acknowledged entries on restart (a broken fsync) is caught', async () => {
    // Lost entries are usually sent again by the leader before anyone relies on them, so the
    // nemesis strikes every ~50 ms (not 300) and snapshots are rare (compaction would hide the
    // loss): then ~15 % of seeds end in a violation. With the default settings it was 1 seed of
    // 240, and a change of heartbeat timing alone moved that one out of the first 60.
    const caught = await caughtAmong(seeds.slice(0, 60), {
      loseEntriesOnRestart: 5,
      nemesisIntervalMs: 50,
      snapshotEveryEntries: 1_000,
    });
    expect(caught.length).toBeGreaterThanOrEqual(3);
  });

  it('has teeth: followers that acknowledge before persisting, then lose power, are caught', async () => {
    const caught = await caughtAmong(seeds.slice(0, 60), { unsafeEveryoneSendsFirst: true });
    expect(caught.length).toBeGreaterThan(0);
  });

  describe('Figure 8 (Raft §5.4.2) played by partitions', () => {
    const figure8Seeds = seeds.slice(0, 60);
    afterEach(() => jest.restoreAllMocks());

    it.each(figure8Seeds)(
      'seed %i keeps every property with the real commit rule',
      async (seed) => {
        const result = await runSimulation({ seed, nodeCount: 5, scenario: 'figure-8' });
        expect(explain(result)).toBe('no violations');
      },
    );

    it('has teeth: a leader that commits an earlier term entry by counting replicas is caught', async () => {
      // The broken rule of the paper's Figure 8, patched in for this test only (as in
      // libs/raft's datadriven-teeth.spec.ts). Random seeds of the usual nemesis never caught it.
      jest.spyOn(RaftLog.prototype, 'maybeCommit').mockImplementation(function (
        this: RaftLog,
        index: number,
      ): boolean {
        if (index <= this.committed) return false;
        this.commitTo(index);
        return true;
      });
      const caught = await caughtAmong(figure8Seeds, { nodeCount: 5, scenario: 'figure-8' });
      // 5 of these 60 seeds end in a violation (leader completeness: a later leader holds
      // another term at an index the broken leader applied).
      expect(caught.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe('the leader stalls (SIGSTOP, a long GC pause) while clients read under the lease', () => {
    const stallSeeds = seeds.slice(0, 60);
    afterEach(() => jest.restoreAllMocks());

    it.each(stallSeeds)('seed %i keeps every property with the real lease check', async (seed) => {
      const result = await runSimulation({ seed, nodeCount: nodesFor(seed), scenario: 'stalls' });
      expect(explain(result)).toBe('no violations');
      expect(result.faultsInjected).toBeGreaterThan(0);
    });

    it('is deterministic: the held work resumes in the same order for one seed', async () => {
      const first = await runSimulation({ seed: 4242, nodeCount: 5, scenario: 'stalls' });
      const second = await runSimulation({ seed: 4242, nodeCount: 5, scenario: 'stalls' });
      expect(first.faultsInjected).toBeGreaterThan(0);
      expect(second).toEqual(first);
    });

    it('has teeth: a lease trusted on the tick count alone answers stale reads after a stall', async () => {
      // The driver without its real-time check, patched for this test only: a resumed leader's
      // one late tick leaves its lease fresh by ticks while another leader has committed writes.
      jest
        .spyOn(ReplicaDriver.prototype as never, 'leaseHoldsInRealTime' as never)
        .mockReturnValue(true as never);
      const stale: number[] = [];
      for (const seed of stallSeeds.slice(0, 20)) {
        const result = await runSimulation({ seed, nodeCount: nodesFor(seed), scenario: 'stalls' });
        if (result.violations.some((v) => v.includes('linearizability: not linearizable')))
          stale.push(seed);
      }
      // 5 of these 20 seeds end in a stale read (19 of the first 60; 21 in some violation).
      expect(stale.length).toBeGreaterThanOrEqual(3);
    });
  });
});

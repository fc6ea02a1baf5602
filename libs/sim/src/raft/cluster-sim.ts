import { Message, NodeId, ReadMode } from '@parley/raft';
import {
  checkLinearizable,
  formatFailure,
  KvInput,
  KvOutput,
  kvModel,
  Operation,
} from '../linearizability';
import { EventQueue } from './event-queue';
import { CALM_NETWORK, SimNetwork } from './network';
import { Rng } from './rng';
import { Figure8Scenario } from './figure-8-scenario';
import { StallScenario } from './stall-scenario';
import { Timeline } from './sim-clock';
import { SIM_ELECTION_TICKS, SimHooks, SimNode } from './sim-node';

export interface SimulationOptions {
  seed: number;
  nodeCount: 3 | 5;
  clients: number;
  /** Virtual milliseconds with faults injected, then a quiet period with none. */
  faultMs: number;
  quietMs: number;
  tickMs: number;
  /** A client waits this long for an answer, then records the outcome as unknown. */
  requestTimeoutMs: number;
  /** Virtual ms between nemesis actions (randomized around it). */
  nemesisIntervalMs: number;
  snapshotEveryEntries: number;
  leaseReads: boolean;
  /** Fault injection for testing the checks themselves (a broken fsync). */
  loseEntriesOnRestart?: number;
  /**
   * For the checker's own test: every replica sends before persisting (a follower acknowledges
   * entries not yet on its disk), and power losses strike any replica, not only leaders.
   */
  unsafeEveryoneSendsFirst?: boolean;
  /**
   * 'figure-8' replaces the random nemesis with the partitions of Raft's Figure 8 (see
   * figure-8-scenario.ts), with PreVote, CheckQuorum and lease reads off as in the paper.
   * 'stalls' replaces it with the leader's process paused for 1.5 to 4 election timeouts at a
   * time while clients read under the lease (see stall-scenario.ts).
   */
  scenario?: 'figure-8' | 'stalls';
  /** Receives a line per notable event, for debugging a failing seed. */
  trace?: (line: string) => void;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'seed'> = {
  nodeCount: 3,
  clients: 4,
  faultMs: 3_000,
  quietMs: 2_000,
  tickMs: 10,
  requestTimeoutMs: 400,
  nemesisIntervalMs: 300,
  snapshotEveryEntries: 40,
  leaseReads: true,
};

/**
 * The 'stalls' scenario's own defaults. Clients give up on a silent replica after 1.5 election
 * timeouts (decision-api moves its requests on after ~half a second, about 2 election timeouts
 * in production), so they find the new leader while the old one is still paused; more clients
 * keep reads arriving at the paused one after the new leader's writes.
 */
export const STALLS_SIMULATION: Partial<SimulationOptions> = {
  clients: 8,
  requestTimeoutMs: 150,
};

export interface SimulationResult {
  seed: number;
  violations: string[];
  opsCompleted: number;
  opsUnknown: number;
  opsChecked: number;
  faultsInjected: number;
  /** Replicas that lost power during a write of entries (a leader's appends had left). */
  powerLosses: number;
  leaderChanges: number;
  messagesSent: number;
  replay: string;
}

type SimEvent =
  /** Something a replica's clock scheduled (ticks, deferred sends, timeouts). */
  | { kind: 'call'; run: () => void }
  | { kind: 'deliver'; message: Message }
  | { kind: 'client'; client: number }
  | { kind: 'timeout'; client: number; opId: number }
  | { kind: 'nemesis' }
  | { kind: 'restart'; node: NodeId }
  | { kind: 'heal' };

interface PendingOp {
  opId: number;
  input: KvInput;
  call: number;
  readCtx?: string;
}

/**
 * Runs N replicas (command-log's driver over a simulated disk and clock) on a simulated
 * network under a seeded nemesis, with clients recording a history, then checks the safety
 * properties and linearizability, and liveness after the faults stop. Same seed, same run.
 */
export async function runSimulation(
  partial: Partial<SimulationOptions> & { seed: number },
): Promise<SimulationResult> {
  const options: SimulationOptions = {
    ...DEFAULT_SIMULATION,
    ...(partial.scenario === 'stalls' ? STALLS_SIMULATION : {}),
    ...partial,
  };
  const figure8 = options.scenario === 'figure-8';
  if (figure8) options.leaseReads = false;
  if (options.scenario === 'stalls') options.leaseReads = true;
  const rng = new Rng(options.seed);
  const netRng = rng.fork();
  const nemesisRng = rng.fork();
  const clientRng = rng.fork();
  const network = new SimNetwork(netRng);
  const queue = new EventQueue<SimEvent>();
  const ids = Array.from({ length: options.nodeCount }, (_, i) => `n${i + 1}`);
  const violations: string[] = [];
  const history: Operation<KvInput, KvOutput>[] = [];
  const appliedAt = new Map<number, string>();
  const leaderOfTerm = new Map<number, NodeId>();
  let now = 0;
  let faultsInjected = 0;
  let leaderChanges = 0;
  let opsCompleted = 0;
  let opsUnknown = 0;
  const endOfFaults = options.faultMs;
  const end = options.faultMs + options.quietMs;
  const pending = new Map<number, PendingOp>();
  const readOwner = new Map<string, number>();
  const believedLeader = new Map<number, NodeId>();
  let nextOpId = 1;
  let quietOpsIssued = 0;
  let quietOpsTimedOut = 0;

  const trace = (line: string) => options.trace?.(`t=${now.toFixed(1)} ${line}`);
  const violation = (what: string) => {
    if (violations.length < 20) violations.push(`t=${Math.round(now)}ms: ${what}`);
  };

  const hooks: SimHooks = {
    lostPower(node) {
      trace(`${node.id} lost power between sending its appends and persisting them`);
      queue.push(now + nemesisRng.between(50, 800), { kind: 'restart', node: node.id });
      // A correlated failure (the same rack): soon after (what the victim sent is delivered by
      // then) the leader, if another node, is cut off too, so the survivors elect a leader from
      // what is really on their disks.
      queue.push(now + nemesisRng.between(10, 30), {
        kind: 'call',
        run: () => {
          const leader = ids.find((id) => id !== node.id && nodes.get(id)!.isLeader());
          if (!leader) return;
          network.partition([[leader], ids.filter((id) => id !== leader)]);
          queue.push(now + nemesisRng.between(100, 600), { kind: 'heal' });
        },
      });
    },
    fatal(node, error) {
      violation(`${node.id} stopped on a fatal error: ${error.message}`);
    },
    send(messages) {
      for (const m of messages)
        for (const at of network.schedule(m, now)) queue.push(at, { kind: 'deliver', message: m });
    },
    applied(node, index, term, digest) {
      const seen = appliedAt.get(index);
      const mine = `${term}|${digest}`;
      if (seen === undefined) appliedAt.set(index, mine);
      else if (seen !== mine)
        violation(
          `state machine safety: ${node} applied ${mine} at index ${index}, another replica applied ${seen}`,
        );
    },
    becameLeader(leader) {
      leaderChanges += 1;
      const replica = leader.replica!;
      const status = replica.status();
      const previous = leaderOfTerm.get(status.term);
      if (previous !== undefined && previous !== leader.id) {
        violation(`election safety: ${previous} and ${leader.id} both led term ${status.term}`);
      }
      leaderOfTerm.set(status.term, leader.id);
      trace(
        `${leader.id} became leader of term ${status.term} (last ${status.lastIndex}, commit ${status.commit})`,
      );
      // Leader completeness: every entry anyone applied is in the new leader's log.
      const log = replica.log;
      const first = log.firstIndex();
      const last = status.lastIndex;
      for (const [index, seen] of appliedAt) {
        if (index < first) continue;
        const term = Number(seen.split('|')[0]);
        if (index > last)
          violation(
            `leader completeness: ${leader.id} (term ${status.term}) lacks applied index ${index}`,
          );
        else if (log.term(index) !== undefined && log.term(index) !== term) {
          violation(
            `leader completeness: ${leader.id} holds term ${log.term(index)} at applied index ${index} (term ${term})`,
          );
        }
      }
      figure8Scenario?.leaderElected(leader.id, status.term);
    },
  };
  const timeline: Timeline = {
    now: () => now,
    at: (time, run) => queue.push(time, { kind: 'call', run }),
  };
  const figure8Scenario = figure8
    ? new Figure8Scenario({
        ids,
        network,
        rng: nemesisRng,
        later: (ms, run) => queue.push(now + ms, { kind: 'call', run }),
        isLeader: (id, term) =>
          nodes.get(id)!.isLeader() && nodes.get(id)!.replica!.status().term === term,
        trace,
      })
    : undefined;
  const stallScenario =
    options.scenario === 'stalls'
      ? new StallScenario(
          {
            rng: nemesisRng,
            later: (ms, run) => queue.push(now + ms, { kind: 'call', run }),
            leader: () => ids.find((id) => nodes.get(id)!.isLeader() && !nodes.get(id)!.paused),
            faultsLeftMs: () => endOfFaults - now,
            pause: (id) => nodes.get(id)!.pause(),
            resume: (id) => {
              // What the process held runs one callback per event (a real process runs the
              // driver's loop after each), the callbacks in a random order.
              const held = nodes.get(id)!.resume();
              for (let i = held.length - 1; i > 0; i -= 1) {
                const j = nemesisRng.nextInt(i + 1);
                [held[i], held[j]] = [held[j], held[i]];
              }
              for (const work of held) queue.push(now, { kind: 'call', run: work });
            },
            trace,
          },
          SIM_ELECTION_TICKS * options.tickMs,
        )
      : undefined;
  const nodes = new Map<NodeId, SimNode>(
    ids.map((id) => [
      id,
      new SimNode({
        id,
        voters: ids,
        // Half the runs send one entry per append, which opens the windows of figure 8.
        raft: {
          leaseDriftTicks: 2,
          maxSizePerMsgBytes: options.seed % 4 < 2 ? 1 : 64 * 1024,
          ...(figure8 ? { preVote: false, checkQuorum: false, maxSizePerMsgBytes: 1 } : {}),
        },
        tickMs: options.tickMs,
        // Each node's clock runs at its own rate, within ±10% (inside the lease drift bound).
        clockSkew: 1 / rng.between(0.9, 1.1),
        snapshotEveryEntries: options.snapshotEveryEntries,
        compactionTailEntries: 10,
        rng: rng.fork(),
        timeline,
        hooks,
        loseEntriesOnRestart: options.loseEntriesOnRestart,
        unsafeEveryoneSendsFirst: options.unsafeEveryoneSendsFirst,
      }),
    ]),
  );
  // Start-up: a node that restarts waits one election timeout before voting; start "warm".
  await Promise.all([...nodes.values()].map((node) => node.start(true)));

  function complete(clientId: number, op: PendingOp, output: KvOutput): void {
    pending.delete(clientId);
    if (op.readCtx) readOwner.delete(op.readCtx);
    history.push({ clientId, input: op.input, call: op.call, output, return: now });
    opsCompleted += 1;
    queue.push(now + clientRng.between(1, 20), { kind: 'client', client: clientId });
  }

  function clientTimeout(clientId: number, opId: number): void {
    const op = pending.get(clientId);
    if (!op || op.opId !== opId) return;
    pending.delete(clientId);
    if (op.readCtx) readOwner.delete(op.readCtx);
    believedLeader.delete(clientId);
    if (op.call >= endOfFaults + 2 * options.requestTimeoutMs) quietOpsTimedOut += 1;
    // A read with no answer had no effect; a write with no answer may or may not have.
    if (op.input.kind !== 'get') {
      history.push({ clientId, input: op.input, call: op.call, return: Infinity });
      opsUnknown += 1;
    }
    queue.push(now + 1, { kind: 'client', client: clientId });
  }

  function issue(clientId: number): void {
    if (now >= end - options.requestTimeoutMs) return;
    const target = nodes.get(believedLeader.get(clientId) ?? clientRng.pick(ids))!;
    const key = `k${clientRng.nextInt(3)}`;
    const opId = nextOpId++;
    const roll = clientRng.next();
    let input: KvInput;
    if (roll < 0.4) input = { kind: 'put', key, value: `v${opId}` };
    else if (roll < 0.55)
      input = {
        kind: 'cas',
        key,
        expected: clientRng.chance(0.5) ? null : `v${clientRng.nextInt(opId)}`,
        value: `v${opId}`,
      };
    else input = { kind: 'get', key };
    const op: PendingOp = { opId, input, call: now };
    if (now >= endOfFaults + 2 * options.requestTimeoutMs) quietOpsIssued += 1;
    const refused = (hint: NodeId | undefined) => {
      // Refused by the replica: it never entered the log (or read nothing); try elsewhere.
      if (pending.get(clientId) !== op) return;
      pending.delete(clientId);
      if (op.readCtx) readOwner.delete(op.readCtx);
      if (hint) believedLeader.set(clientId, hint);
      else believedLeader.delete(clientId);
      queue.push(now + 5, { kind: 'client', client: clientId });
    };
    if (input.kind === 'get') {
      const ctx = `c${clientId}-${opId}`;
      const mode: ReadMode = options.leaseReads && clientRng.chance(0.3) ? 'lease' : 'read-index';
      trace(`client ${clientId} reads ${key} (${ctx}) via ${target.id} mode ${mode}`);
      op.readCtx = ctx;
      pending.set(clientId, op);
      readOwner.set(ctx, clientId);
      target.read(key, mode, (outcome) => {
        if (outcome === 'refused') return refused(target.leaderHint());
        trace(
          `${target.id} served read ${ctx} at index ${outcome.index}: ${String(outcome.value)}`,
        );
        if (pending.get(clientId) === op) complete(clientId, op, { value: outcome.value });
      });
    } else {
      pending.set(clientId, op);
      const command =
        input.kind === 'put'
          ? { clientId, opId, kind: 'put' as const, key, value: input.value }
          : {
              clientId,
              opId,
              kind: 'cas' as const,
              key,
              value: input.value,
              expected: input.expected,
            };
      target.propose(command, (outcome) => {
        if (outcome.status === 'refused')
          return refused(
            outcome.refusal.reason === 'not-leader' ? outcome.refusal.leaderHint : undefined,
          );
        // 'dropped': its fate is unknown here; the client's timeout records it as such.
        if (outcome.status === 'applied' && pending.get(clientId) === op)
          complete(clientId, op, outcome.result as KvOutput);
      });
    }
    queue.push(now + options.requestTimeoutMs, { kind: 'timeout', client: clientId, opId });
  }

  function nemesis(): void {
    if (now >= endOfFaults) return;
    if (figure8Scenario || stallScenario) return;
    faultsInjected += 1;
    const live = ids.filter((id) => !nodes.get(id)!.crashed);
    const leader = ids.find((id) => nodes.get(id)!.isLeader());
    const action = nemesisRng.nextInt(8);
    trace(`nemesis action ${action}`);
    const healAfter = nemesisRng.between(100, 600);
    switch (action) {
      case 0: {
        // Majority/minority partition.
        const shuffled = [...ids];
        for (let i = shuffled.length - 1; i > 0; i -= 1) {
          const j = nemesisRng.nextInt(i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const minority = shuffled.slice(0, Math.floor(ids.length / 2));
        network.partition([minority, shuffled.slice(minority.length)]);
        queue.push(now + healAfter, { kind: 'heal' });
        break;
      }
      case 1:
        if (leader) network.partition([[leader], ids.filter((id) => id !== leader)]);
        queue.push(now + healAfter, { kind: 'heal' });
        break;
      case 2: {
        const from = nemesisRng.pick(ids);
        const to = nemesisRng.pick(ids.filter((id) => id !== from));
        network.cutOneWay(from, to);
        queue.push(now + healAfter, { kind: 'heal' });
        break;
      }
      case 3: {
        // Crash the leader or a follower; it restarts later from its storage.
        const victim = leader && nemesisRng.chance(0.5) ? leader : nemesisRng.pick(live);
        const crashedCount = ids.length - live.length;
        if (victim && crashedCount < Math.floor(ids.length / 2)) {
          nodes.get(victim)!.crash();
          trace(`crash ${victim}`);
          queue.push(now + nemesisRng.between(50, 800), { kind: 'restart', node: victim });
        }
        break;
      }
      case 4:
        network.faults = {
          delayMsMin: 1,
          delayMsMax: 30,
          dropProbability: 0.2,
          duplicateProbability: 0.1,
        };
        queue.push(now + healAfter, { kind: 'heal' });
        break;
      case 5:
        if (leader)
          nodes.get(leader)!.transferLeadership(nemesisRng.pick(ids.filter((id) => id !== leader)));
        break;
      case 6:
        network.faults = {
          delayMsMin: 1,
          delayMsMax: 80,
          dropProbability: 0.02,
          duplicateProbability: 0.05,
        };
        queue.push(now + healAfter, { kind: 'heal' });
        break;
      case 7: {
        // Power fails on a replica during its next write of entries: a leader's appends have
        // left by then (it sends first). A follower's write is the riskier case: the leader's
        // appends reach it alone for a while (the others lag), so if it acknowledged before its
        // disk had them, the leader commits what only its own disk holds.
        const crashedCount = ids.length - live.length;
        if (crashedCount >= Math.floor(ids.length / 2)) break;
        const victim = leader && nemesisRng.chance(0.5) ? leader : nemesisRng.pick(live);
        nodes.get(victim)!.disk.powerLossArmed = true;
        if (leader && victim !== leader) {
          for (const id of ids) if (id !== leader && id !== victim) network.cutOneWay(leader, id);
          queue.push(now + healAfter, { kind: 'heal' });
        }
        break;
      }
    }
    queue.push(
      now + nemesisRng.between(options.nemesisIntervalMs / 2, options.nemesisIntervalMs * 1.5),
      { kind: 'nemesis' },
    );
  }

  for (let c = 0; c < options.clients; c += 1)
    queue.push(rng.between(0, 50), { kind: 'client', client: c });
  queue.push(options.nemesisIntervalMs, { kind: 'nemesis' });
  stallScenario?.start();
  queue.push(endOfFaults, { kind: 'heal' });

  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  await settle();
  const eventsMax = 5_000_000;
  for (let processed = 0; processed < eventsMax; processed += 1) {
    const next = queue.pop();
    if (!next || next.time > end) break;
    now = next.time;
    const event = next.value;
    switch (event.kind) {
      case 'call':
        event.run();
        break;
      case 'deliver':
        if (network.linkUp(event.message.from, event.message.to))
          nodes.get(event.message.to)?.step(event.message);
        break;
      case 'client':
        if (!pending.has(event.client)) issue(event.client);
        break;
      case 'timeout':
        clientTimeout(event.client, event.opId);
        break;
      case 'nemesis':
        nemesis();
        break;
      case 'restart':
        if (nodes.get(event.node)!.crashed) {
          nodes.get(event.node)!.restart();
          trace(`restart ${event.node}`);
        }
        break;
      case 'heal':
        network.heal();
        network.faults = CALM_NETWORK;
        if (now >= endOfFaults) for (const node of nodes.values()) if (node.crashed) node.restart();
        break;
    }
    // The replicas' work for this event runs now, at this virtual time: disk and network
    // ports answer through promise callbacks (never timers), so this one wait runs them all.
    await settle();
  }

  // Liveness: after the quiet period a single leader leads everyone, and all replicas caught up.
  const leaders = ids.filter((id) => nodes.get(id)!.isLeader());
  if (leaders.length !== 1)
    violation(`liveness: ${leaders.length} leaders after ${options.quietMs} ms without faults`);
  else {
    const commit = nodes.get(leaders[0])!.replica!.status().commit;
    for (const node of nodes.values()) {
      if (node.applied < commit - 1)
        violation(`liveness: ${node.id} applied ${node.applied}, leader committed ${commit}`);
    }
  }
  if (quietOpsTimedOut > 0)
    violation(
      `liveness: ${quietOpsTimedOut} of ${quietOpsIssued} requests issued after the faults stopped timed out`,
    );
  const digests = new Set(
    [...nodes.values()]
      .filter((n) => n.applied === Math.max(...[...nodes.values()].map((m) => m.applied)))
      .map((n) => n.stateDigest()),
  );
  if (digests.size > 1) violation('replicas at the same applied index hold different states');

  const report = checkLinearizable(kvModel, history, { maxSteps: 20_000_000 });
  if (report.result === 'illegal')
    violation(`linearizability: ${formatFailure(kvModel as never, report)}`);
  if (report.result === 'unknown')
    violation('linearizability: the checker ran out of steps (inconclusive)');

  return {
    seed: options.seed,
    violations,
    opsCompleted,
    opsUnknown,
    opsChecked: history.length,
    faultsInjected: figure8Scenario?.cuts ?? stallScenario?.stalls ?? faultsInjected,
    powerLosses: [...nodes.values()].reduce((sum, node) => sum + node.powerLosses, 0),
    leaderChanges,
    messagesSent: network.sent,
    replay: options.scenario
      ? `npm run soak:raft -- --seed ${options.seed} --nodes ${options.nodeCount} --scenario ${options.scenario}`
      : `RAFT_SIM_SEED=${options.seed} npx jest libs/sim/src/raft/cluster-sim.spec.ts -t replay  # or: npm run soak:raft -- --seed ${options.seed} --nodes ${options.nodeCount}`,
  };
}

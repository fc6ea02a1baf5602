import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
import { NoDelayJsonSocket, PeerTls, backgroundNatsOptions, signRpc } from '@parley/app-kit';
import { backoffDelayMs, createBreaker } from '@parley/resilience';
import type CircuitBreaker from 'opossum';
import { firstValueFrom, timeout } from 'rxjs';
import type {
  LocalCommandLog,
  NodeStatus,
  ProposeBatchRequest,
  ProposeBatchResponse,
  ProposeResponse,
  ReadBatchRequest,
  ReadBatchResponse,
  ReadResponse,
  WatchRequest,
  WatchResponse,
} from '@parley/command-log-api';
import {
  ANY_REPLICA,
  LOCAL_REPLICA,
  NOT_A_MEMBER,
  PROPOSE_BATCH_MAX,
  READ_BATCH_MAX,
  RPC,
  TEMPORARY_REFUSALS,
  commandLogSubject,
} from '@parley/command-log-api';
import {
  ClusterRefused,
  isFinal,
  isFinalRefusal,
  sessionRefusal,
  temporarilyRefused,
  unavailable,
} from './outcomes';
import {
  REPLICA_LIVENESS_DEFAULTS,
  ReplicaDeposedError,
  ReplicaLiveness,
  ReplicaLivenessOptions,
  ReplicaSilentError,
} from './replica-liveness';
import { RequestBatcher } from './request-batcher';

type Proposal = ProposeBatchRequest['proposals'][number];
type BatchedRead = ReadBatchRequest['reads'][number];

const TRANSPORT_TIMEOUT_SLACK_MS = 2_000;
/** Proposals a new leader dropped are proposed again this many times before answering 504. */
const DROPPED_RETRIES_MAX = 2;
/**
 * Proposals a leader refused as not-leader inside a batch (a transfer under way, or it stepped
 * down) are proposed again this many times, with back-off, before answering 503.
 */
const NOT_LEADER_RETRIES_MAX = 6;
/**
 * Batches of one kind out at once while the leader is the replica in this process (a node
 * process). A batch then costs no signature, socket or JSON, so nothing is saved by holding
 * requests back to grow the next one, while each batch that waits for the one before it to
 * commit waits out the followers' round trip: with batches in flight the leader persists the
 * next batch while the last one is replicated. Measured on the leader's node with 4 against 1:
 * 1,801 against 1,239 PUTs/s at 4 clients, 5,689 against 4,681 at 64, less CPU per write.
 */
const LOCAL_LEADER_BATCHES_IN_FLIGHT = 4;
/** Requests waiting to be batched to command-log (each kind); more get 503 (back-pressure). */
const REQUESTS_QUEUED_MAX = 10_000;
/**
 * After a replica says it does not know the batch patterns (a version from before them, met
 * during a rolling upgrade), requests go one by one for this long, then batches are tried again.
 */
const ONE_BY_ONE_MS = 30_000;

/** The patterns a replica from before batching lacks. */
const BATCH_PATTERNS = new Set<string>([RPC.proposeBatch, RPC.readBatch]);

/** Errors that say the request never left (breaker open, nobody listening): nothing was done. */
const NOT_SENT_CODES = new Set(['EOPENBREAKER', 'ECONNREFUSED']);

/**
 * No leader answered within the attempts and the deadline. `maybeDelivered`: some attempt may
 * have reached a leader that then went silent or away, so a command's outcome is unknown (504),
 * not merely refused (503).
 */
class NoLeaderAnswered extends ClusterRefused {
  constructor(readonly maybeDelivered: boolean) {
    super({ kind: 'unavailable', detail: 'no command-log leader answered', retryAfterS: 1 });
  }
}

/** The replica answered that it has no handler for the pattern: nothing was done there. */
class PatternUnknownError extends Error {
  constructor(readonly pattern: string) {
    super(`command-log does not know ${pattern}`);
  }
}

export interface Applied {
  index: number;
  result: Record<string, unknown>;
  replayed: boolean;
}

/** One proposal's fate after one attempt (see CommandLogClient.proposeOnce). */
export type ProposalOutcome =
  | { kind: 'applied'; applied: Applied }
  | { kind: 'refused'; refusal: ClusterRefused }
  | { kind: 'retry'; reason: string };

/**
 * decision-api's way to the Raft leader over command-log's signed microservice API. It learns
 * node ids from `status`, follows not-leader hints, backs off with full jitter while there is
 * no leader, and gives up after a bounded number of attempts (never loops), throwing a typed
 * outcome (outcomes.ts): unavailable when no leader answers, outcome-unknown when the commit
 * outcome is unknown (retrying with the same requestId is safe).
 *
 * A replica that goes silent (paused, frozen) does not hold requests for the commit timeout:
 * ReplicaLiveness abandons what is out to it within about a second, the replica is skipped while
 * suspect, and the batch is sent again to the new leader (proposals keep their requestIds, so the
 * state machine applies each at most once whichever leader had it) or, for stale reads, to
 * another replica.
 */
export class CommandLogClient implements OnApplicationShutdown {
  private readonly logger = new Logger('CommandLogClient');
  private readonly clients = new Map<string, ClientProxy>();
  private readonly breakers = new Map<string, CircuitBreaker<[string, object], unknown>>();
  private readonly addressOf = new Map<string, string>();
  private leader: string | undefined;
  private next = 0;
  /** Until then, requests go one by one (see ONE_BY_ONE_MS). */
  private oneByOneUntil = 0;
  private readonly proposals: RequestBatcher<Proposal, ProposeResponse>;
  /** Linearizable and lease reads go to the leader, which takes one read point per batch. */
  private readonly leaderReads: RequestBatcher<BatchedRead, ReadResponse>;
  private readonly staleReads: RequestBatcher<BatchedRead, ReadResponse>;
  private readonly liveness: ReplicaLiveness;

  /** Replica addresses (TCP: host:rpcPort; NATS: node ids, learned from any replica). */
  private nodes: readonly string[];
  private natsClient?: ClientProxy;
  /** The address that last answered a request only a leader answers (undefined after a miss). */
  private answeredAsLeader: string | undefined;
  /** The replica the watch read from last (see watchEvents). */
  private watchAddress: string | undefined;

  constructor(
    nodes: readonly string[],
    private readonly secret: string | undefined,
    private readonly commitTimeoutMs: number,
    /** When set, the API is reached over NATS request/reply instead of TCP. */
    private readonly nats?: { url: string; clusterId: string },
    /** Batches of one kind out at once (PARLEY_RPC_BATCHES_IN_FLIGHT). */
    batchesInFlightMax = 1,
    /** When a replica counts as silent (PARLEY_RPC_SILENT_AFTER_MS and the two after it). */
    liveness: ReplicaLivenessOptions = REPLICA_LIVENESS_DEFAULTS,
    /** Mutual TLS to the replicas' TCP microservice port; plain TCP when unset. */
    private readonly tls?: PeerTls,
    /**
     * The replica in this process, when decision-api runs in a node process beside one: called
     * in-process as the address LOCAL_REPLICA, with `nodes` the other replicas (TCP only).
     */
    private readonly local?: LocalCommandLog,
  ) {
    this.nodes = nats ? [ANY_REPLICA] : local ? [LOCAL_REPLICA, ...nodes] : nodes;
    this.liveness = new ReplicaLiveness(
      (address) =>
        this.sendRaw(address, RPC.status, {}, liveness.probeTimeoutMs) as Promise<NodeStatus>,
      liveness,
    );
    // A reply that leaves a request out is a broken reply: that request's outcome is unknown.
    const unknown = { status: 'timeout' } as const;
    const toLeaderInFlightMax = () =>
      this.leaderIsLocal()
        ? Math.max(batchesInFlightMax, LOCAL_LEADER_BATCHES_IN_FLIGHT)
        : batchesInFlightMax;
    this.proposals = this.batcher(PROPOSE_BATCH_MAX, toLeaderInFlightMax, unknown, (batch) =>
      this.proposeBatch(batch),
    );
    this.leaderReads = this.batcher(READ_BATCH_MAX, toLeaderInFlightMax, unknown, (batch) =>
      this.readBatch(batch, 'leader'),
    );
    this.staleReads = this.batcher(READ_BATCH_MAX, batchesInFlightMax, unknown, (batch) =>
      this.readBatch(batch, 'any'),
    );
  }

  /** Whether the replica that answered the last leader's request is the one in this process. */
  private leaderIsLocal(): boolean {
    return this.answeredAsLeader === LOCAL_REPLICA;
  }

  /** Which replicas are suspect (silent at their last probe), and requests abandoned at them. */
  get replicaLiveness(): Pick<ReplicaLiveness, 'suspicion' | 'requestsAbandoned'> {
    return this.liveness;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Some replica to call, and the secret to sign with unless the only one is in-process. */
  get configured(): boolean {
    const remote = this.nodes.some((address) => address !== LOCAL_REPLICA);
    return this.nodes.length > 0 && (this.secret !== undefined || !remote);
  }

  /** `traceId` follows the command into command-log's logs (REST request id, Kafka offset). */
  async propose(command: Record<string, unknown>, traceId?: string): Promise<Applied> {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await this.proposeOne({ command, ...(traceId ? { traceId } : {}) });
      if (answer.status === 'applied') {
        const outcome = answer.result as { result: Record<string, unknown>; replayed: boolean };
        // A refusal by the session table is one answer on every route and for Kafka records.
        const refused = sessionRefusal(outcome.result);
        if (refused) throw new ClusterRefused(refused);
        return { index: answer.index, result: outcome.result, replayed: outcome.replayed };
      }
      const temporary = temporaryRefusal(answer);
      // A leader handing over refuses proposals until its successor leads (Raft §3.10): nothing
      // was appended and the transfer ends within an election timeout, so it is waited out here
      // (with the leader forgotten) before the client is told 503.
      if (temporary === 'transferring-leadership' && attempt < NOT_LEADER_RETRIES_MAX) {
        await this.pauseForNewLeader(attempt);
        continue;
      }
      if (temporary) throw temporarilyRefused(temporary);
      if (answer.status === 'rejected')
        throw new ClusterRefused({ kind: 'invalid', detail: answer.reason });
      // Dropped: a new leader's log replaced the entry, so it is known NOT applied, and the
      // command's requestId keeps a second proposal exactly-once. A timeout stays unknown.
      if (answer.status === 'dropped' && attempt < DROPPED_RETRIES_MAX) continue;
      // Refused by a leader in a batch (it stepped down): not appended, so proposing again is
      // safe; once the bound is reached, 503 (no leader yet).
      if (answer.status === 'not-leader') {
        if (attempt >= NOT_LEADER_RETRIES_MAX)
          throw unavailable('the command-log leader is changing');
        await this.pauseForNewLeader(attempt);
        continue;
      }
      throw new ClusterRefused({
        kind: 'outcome-unknown',
        detail: 'the commit outcome is unknown; retrying with the same requestId is safe',
      });
    }
  }

  /**
   * One attempt at a proposal, with no waiting of its own, for a caller that proposes many in
   * order and retries the ones that did not pass together (the Kafka consumer): submitted in
   * the same turn, they travel in one propose-batch and are appended in that order. `retry`
   * covers everything that may pass if proposed again with the same requestId (no leader,
   * back-pressure, a transfer, a dropped entry, an unknown outcome).
   */
  async proposeOnce(command: Record<string, unknown>, traceId?: string): Promise<ProposalOutcome> {
    let answer: ProposeResponse;
    try {
      answer = await this.proposeOne({ command, ...(traceId ? { traceId } : {}) });
    } catch (error) {
      if (isFinalRefusal(error)) return { kind: 'refused', refusal: error };
      return { kind: 'retry', reason: (error as Error).message };
    }
    if (answer.status === 'applied') {
      const outcome = answer.result as { result: Record<string, unknown>; replayed: boolean };
      const refused = sessionRefusal(outcome.result);
      if (!refused)
        return {
          kind: 'applied',
          applied: { index: answer.index, result: outcome.result, replayed: outcome.replayed },
        };
      if (isFinal(refused)) return { kind: 'refused', refusal: new ClusterRefused(refused) };
      return { kind: 'retry', reason: refused.kind };
    }
    const temporary = temporaryRefusal(answer);
    if (answer.status === 'rejected' && !temporary)
      return {
        kind: 'refused',
        refusal: new ClusterRefused({ kind: 'invalid', detail: answer.reason }),
      };
    if (answer.status === 'not-leader' || temporary === 'transferring-leadership')
      this.leader = undefined;
    return { kind: 'retry', reason: temporary ?? answer.status };
  }

  /** Forgets the leader and backs off (full jitter) before a proposal goes again. */
  private async pauseForNewLeader(attempt: number): Promise<void> {
    this.leader = undefined;
    const delayMs = backoffDelayMs(attempt, { delayMsBase: 50, delayMsMax: 1_000 }, Math.random);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }

  /**
   * One proposal, batched with its neighbours; alone to a replica that predates batches. A
   * replica that did not know the pattern did nothing, so sending the proposal again is safe.
   */
  private async proposeOne(proposal: Proposal): Promise<ProposeResponse> {
    try {
      return await this.batchedOrAlone(
        () => this.proposals.submit(proposal),
        () =>
          this.toLeader<ProposeResponse>(RPC.propose, {
            ...proposal,
            timeoutMs: this.commitTimeoutMs,
          }),
      );
    } catch (error) {
      // A leader that went silent may have written it: its outcome is unknown (504), which a
      // retry with the same requestId settles.
      if (error instanceof NoLeaderAnswered && error.maybeDelivered) return { status: 'timeout' };
      throw error;
    }
  }

  /** As proposeOne, for a read. */
  private readOne(read: BatchedRead, to: 'leader' | 'any'): Promise<ReadResponse> {
    const single = { ...read, timeoutMs: this.commitTimeoutMs };
    return this.batchedOrAlone(
      () => (to === 'leader' ? this.leaderReads : this.staleReads).submit(read),
      () =>
        to === 'leader'
          ? this.toLeader<ReadResponse>(RPC.read, single)
          : this.toAny<ReadResponse>(RPC.read, single),
    );
  }

  /** The batch, unless a replica lately did not know it (then alone, see ONE_BY_ONE_MS). */
  private async batchedOrAlone<R>(batched: () => Promise<R>, alone: () => Promise<R>): Promise<R> {
    if (Date.now() >= this.oneByOneUntil) {
      try {
        return await batched();
      } catch (error) {
        if (!(error instanceof PatternUnknownError)) throw error;
        this.logger.warn(
          `${error.message} (an older version?): sending requests one by one for ${ONE_BY_ONE_MS / 1000} s`,
        );
        this.oneByOneUntil = Date.now() + ONE_BY_ONE_MS;
      }
    }
    return alone();
  }

  /** One batch of proposals to the leader (following redirects); one answer per proposal. */
  private async proposeBatch(proposals: Proposal[]): Promise<ProposeResponse[]> {
    const answer = await this.toLeader<ProposeBatchResponse>(RPC.proposeBatch, {
      proposals,
      timeoutMs: this.commitTimeoutMs,
    });
    if (answer.status === 'answered') return answer.answers;
    const reason = answer.status === 'rejected' ? answer.reason : 'no leader';
    return proposals.map(() => ({ status: 'rejected', reason }));
  }

  /** One batch of reads to the leader (following redirects) or to any replica (stale). */
  private async readBatch(reads: BatchedRead[], to: 'leader' | 'any'): Promise<ReadResponse[]> {
    const body = { reads, timeoutMs: this.commitTimeoutMs };
    const answer =
      to === 'leader'
        ? await this.toLeader<ReadBatchResponse>(RPC.readBatch, body)
        : await this.toAny<ReadBatchResponse>(RPC.readBatch, body);
    if (answer.status === 'answered') return answer.answers;
    // A stale batch reaches any replica, so it never hears not-leader; a leader batch that
    // does has run out of redirects inside toLeader.
    const reason = answer.status === 'rejected' ? answer.reason : 'no leader';
    return reads.map(() => ({ status: 'unavailable', reason }));
  }

  private batcher<T, R>(
    batchMax: number,
    inFlightMax: number | (() => number),
    missingAnswer: R,
    send: (batch: T[]) => Promise<R[]>,
  ): RequestBatcher<T, R> {
    return new RequestBatcher(send, {
      batchMax,
      inFlightMax,
      queuedMax: REQUESTS_QUEUED_MAX,
      missingAnswer,
      overloaded: () => unavailable('too many requests are waiting for command-log'),
    });
  }

  async read(
    query: Record<string, unknown>,
    consistency: 'linearizable' | 'lease' | 'stale',
    minIndex?: number,
  ): Promise<{ index: number; result: unknown; stalenessMs?: number }> {
    const read = { query, consistency, ...(minIndex === undefined ? {} : { minIndex }) };
    const answer = await this.readOne(read, consistency === 'stale' ? 'any' : 'leader');
    if (answer.status === 'ok') return answer;
    if (answer.status === 'beyond-log') throw beyondLog(minIndex ?? 0, answer.lastIndex);
    if (answer.status === 'timeout') {
      // A stale read waits on one replica, which cannot tell a lagging log from an index that
      // does not exist; the cluster's highest commit index can.
      if (minIndex !== undefined) {
        const highest = Math.max(0, ...(await this.statuses()).map((s) => s.commitIndex));
        if (minIndex > highest) throw beyondLog(minIndex, highest);
      }
      // A read has no side effect: "try again" (503), not "outcome unknown" (504).
      throw unavailable(`no replica reached index ${minIndex ?? 0} in time`);
    }
    throw unavailable('no quorum for this read');
  }

  /**
   * Decision events after an index (RPC.watch) from any replica that holds them. The known
   * leader is asked first: it applies an entry as soon as it commits, a follower only when it
   * hears of the commit (about a heartbeat later). Else the replica that answered last; one that
   * no longer holds the range (`compacted`, say after a restart from a newer snapshot) or
   * fails passes the request on to the next. Compacted only when every replica says so, with
   * the lowest index any of them holds.
   */
  async watchEvents(request: WatchRequest): Promise<WatchResponse> {
    let compacted: number | undefined;
    const known = this.leader && this.addressOf.get(this.leader);
    const first = known && !this.liveness.isSuspect(known) ? known : this.watchAddress;
    for (let attempt = 0; attempt < this.nodes.length; attempt += 1) {
      const address = attempt === 0 && first !== undefined ? first : this.nextNode();
      try {
        const answer = await this.call<WatchResponse>(address, RPC.watch, request);
        if (answer.status === 'compacted') {
          compacted = Math.min(compacted ?? Infinity, answer.compactedIndex);
          continue;
        }
        this.watchAddress = address;
        return answer;
      } catch (error) {
        if (this.watchAddress === address) this.watchAddress = undefined;
        if (error instanceof PatternUnknownError) continue; // a replica from before the watch
      }
    }
    if (compacted !== undefined) return { status: 'compacted', compactedIndex: compacted };
    throw unavailable('no command-log replica answered the watch');
  }

  /** Each reachable replica's status (operators' view of the cluster). */
  async statuses(): Promise<NodeStatus[]> {
    if (this.nats && this.nodes[0] === ANY_REPLICA) await this.learnNatsMembers();
    const all = await Promise.all(
      this.nodes.map((address) =>
        this.call<NodeStatus>(address, RPC.status, {}).catch(() => undefined),
      ),
    );
    return all.filter((s): s is NodeStatus => s !== undefined);
  }

  /** An operator command the leader must run (transfer, membership, snapshot). */
  async operate<T>(pattern: string, body: object): Promise<T> {
    // Not abandoned when the leader steps down: a transfer makes it step down on purpose, and an
    // operator command has no requestId to make a second sending harmless.
    return this.toLeader<T & { status?: string }>(pattern, body, false);
  }

  /**
   * A membership change (RPC.addMember or RPC.removeMember) the leader runs: applied at a log
   * index, else a typed outcome (a stranger not found, a refusal such as
   * reconfiguration-unsafe as a conflict naming its reason, a transfer under way unavailable).
   */
  async changeMembership(
    pattern: string,
    body: object,
  ): Promise<{ status: 'applied'; index: number }> {
    const answer = await this.operate<ProposeResponse>(pattern, body);
    const temporary = temporaryRefusal(answer);
    if (temporary) throw temporarilyRefused(temporary);
    if (answer.status === 'rejected' && answer.reason === NOT_A_MEMBER)
      throw new ClusterRefused({ kind: 'not-found', detail: 'no such member in the cluster' });
    if (answer.status === 'rejected')
      throw new ClusterRefused({
        kind: 'conflict',
        detail: answer.detail ?? answer.reason,
        reason: answer.reason,
      });
    if (answer.status === 'applied') return { status: answer.status, index: answer.index };
    // A new leader dropped the change, or its commit did not come in time: unknown either way.
    throw new ClusterRefused({
      kind: 'outcome-unknown',
      detail:
        'the membership change may or may not take effect; read GET /v1/cluster before retrying',
    });
  }

  /**
   * `body` to the leader: the known one unless it is suspect, else any replica, following its
   * not-leader hint unless that names a suspect (its followers still name a paused leader until
   * they elect another: the client waits for the election instead). A request abandoned at a
   * silent or deposed leader is sent again; the caller hears NoLeaderAnswered once the attempts
   * or the deadline run out.
   */
  private async toLeader<T extends { status?: string }>(
    pattern: string,
    body: object,
    abandonWhenDeposed = true,
  ): Promise<T> {
    if (!this.configured) throw unavailable('no command-log nodes are configured', 5);
    // Bounded twice over: in attempts, and by a deadline, whatever the cluster does meanwhile.
    const attempts = this.nodes.length * 3;
    const deadline = Date.now() + 2 * this.commitTimeoutMs + TRANSPORT_TIMEOUT_SLACK_MS;
    let maybeDelivered = false;
    for (let attempt = 0; attempt < attempts && Date.now() < deadline; attempt += 1) {
      const known = this.leader && this.addressOf.get(this.leader);
      const address = known && !this.liveness.isSuspect(known) ? known : this.nextNode();
      let answer: T & { leaderId?: string | null };
      try {
        answer = await this.call(address, pattern, body, abandonWhenDeposed);
      } catch (error) {
        this.answeredAsLeader = undefined;
        if (error instanceof PatternUnknownError) throw error;
        maybeDelivered ||= !NOT_SENT_CODES.has(
          (error as { code?: string } | undefined)?.code ?? '',
        );
        if (error instanceof ReplicaSilentError || error instanceof ReplicaDeposedError)
          this.logger.warn(`${error.message}: sending ${pattern} again elsewhere`);
        this.leader = undefined;
        continue;
      }
      if (answer.status !== 'not-leader') {
        this.answeredAsLeader = address;
        return answer;
      }
      this.answeredAsLeader = undefined;
      const hint = answer.leaderId ?? undefined;
      if (hint && !this.addressOf.has(hint)) await this.learnIds();
      const hinted = hint && this.addressOf.get(hint);
      if (hinted && hint !== this.leader && !this.liveness.isSuspect(hinted)) {
        this.leader = hint;
        continue;
      }
      // No leader known (an election is on): wait a little, with full jitter, then look again.
      this.leader = undefined;
      await new Promise((resolve) =>
        setTimeout(
          resolve,
          backoffDelayMs(attempt, { delayMsBase: 50, delayMsMax: 1_000 }, Math.random),
        ),
      );
    }
    throw new NoLeaderAnswered(maybeDelivered);
  }

  private async toAny<T>(pattern: string, body: object): Promise<T> {
    for (let attempt = 0; attempt < this.nodes.length; attempt += 1) {
      try {
        return await this.call<T>(this.nextNode(), pattern, body);
      } catch (error) {
        if (error instanceof PatternUnknownError) throw error;
        // try the next replica
      }
    }
    throw unavailable('no command-log replica answered');
  }

  /** The next replica in turn that is not suspect (any, when every one is). */
  private nextNode(): string {
    for (let tried = 0; tried < this.nodes.length; tried += 1) {
      const address = this.nodes[this.next % this.nodes.length];
      this.next += 1;
      if (!this.liveness.isSuspect(address)) return address;
    }
    return this.nodes[this.next++ % this.nodes.length];
  }

  private async learnIds(): Promise<void> {
    if (this.nats) return this.learnNatsMembers();
    // A suspect would hold the answer for a probe's time, and cannot be the leader to follow.
    const live = this.nodes.filter((address) => !this.liveness.isSuspect(address));
    await Promise.all(
      live.map(async (address) => {
        const status = await this.call<NodeStatus>(address, RPC.status, {}).catch(() => undefined);
        if (status) this.addressOf.set(status.id, address);
      }),
    );
  }

  /** Over NATS a replica is addressed by its id: any replica tells who the members are. */
  private async learnNatsMembers(): Promise<void> {
    const status = await this.call<NodeStatus>(ANY_REPLICA, RPC.status, {}).catch(() => undefined);
    if (!status) return;
    const members = [...status.members.voters, ...status.members.learners];
    this.nodes = members.length > 0 ? members : [ANY_REPLICA];
    for (const id of members) this.addressOf.set(id, id);
  }

  /**
   * One call to one replica, behind that replica's opossum breaker: a replica that keeps
   * failing is skipped fast (the caller moves on to the next) until a trial call succeeds.
   */
  private call<T>(address: string, pattern: string, body: object, needsLeader = false): Promise<T> {
    let breaker = this.breakers.get(address);
    if (!breaker) {
      breaker = createBreaker((p: string, b: object) => this.send(address, p, b), {
        name: `command-log-${address}`,
        timeoutMs: this.commitTimeoutMs + TRANSPORT_TIMEOUT_SLACK_MS,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 1_000,
        volumeThreshold: 3,
        // An older replica that lacks a pattern is healthy: it answered.
        isHealthyError: (error) => error instanceof PatternUnknownError,
      });
      this.breakers.set(address, breaker);
    }
    return this.liveness.watch(address, breaker.fire(pattern, body) as Promise<T>, needsLeader);
  }

  private async send(address: string, pattern: string, body: object): Promise<unknown> {
    try {
      return await this.sendRaw(address, pattern, body);
    } catch (error) {
      // Over TCP, Nest answers an unknown pattern with this message, as a bare string.
      const message = typeof error === 'string' ? error : (error as Error | undefined)?.message;
      if (message === NO_MESSAGE_HANDLER) throw new PatternUnknownError(pattern);
      // Over NATS, a replica subscribes per pattern, so nobody hears a pattern it lacks: the
      // same empty answer as an address nobody is at. A replica that then answers status is
      // there, and did not know the pattern.
      if (error instanceof EmptyResponseException && BATCH_PATTERNS.has(pattern)) {
        const there = await this.sendRaw(address, RPC.status, {}).then(
          () => true,
          () => false,
        );
        if (there) throw new PatternUnknownError(pattern);
      }
      throw error;
    }
  }

  private sendRaw(
    address: string,
    pattern: string,
    body: object,
    timeoutMs = this.commitTimeoutMs + TRANSPORT_TIMEOUT_SLACK_MS,
  ): Promise<unknown> {
    if (address === LOCAL_REPLICA && this.local) return this.local.call(pattern, body);
    const signed = signRpc(this.secret!, pattern, body);
    const wait = timeout(timeoutMs);
    if (this.nats) {
      this.natsClient ??= ClientProxyFactory.create({
        transport: Transport.NATS,
        options: backgroundNatsOptions(this.nats.url, 'decision-api'),
      });
      const subject = commandLogSubject(this.nats.clusterId, address, pattern);
      return firstValueFrom(this.natsClient.send<unknown>(subject, signed).pipe(wait));
    }
    let client = this.clients.get(address);
    if (!client) {
      const at = address.lastIndexOf(':');
      client = ClientProxyFactory.create({
        transport: Transport.TCP,
        options: {
          host: address.slice(0, at),
          port: Number(address.slice(at + 1)),
          socketClass: NoDelayJsonSocket,
          tlsOptions: this.tls?.client,
        },
      });
      this.clients.set(address, client);
    }
    return firstValueFrom(client.send<unknown>(pattern, signed).pipe(wait));
  }

  async onApplicationShutdown(): Promise<void> {
    this.liveness.close();
    for (const breaker of this.breakers.values()) breaker.shutdown();
    for (const client of this.clients.values()) await client.close();
    await this.natsClient?.close();
    this.logger.debug('closed command-log clients');
  }
}

/**
 * The reason of a refusal that passes on its own (back-pressure, a leadership transfer), or
 * undefined. A replica from before the `unavailable` status says `rejected` with these reasons.
 */
export function temporaryRefusal(answer: ProposeResponse): string | undefined {
  if (answer.status === 'unavailable') return answer.reason;
  if (answer.status === 'rejected' && TEMPORARY_REFUSALS.has(answer.reason)) return answer.reason;
  return undefined;
}

/** A minIndex past the end of the log is an index no answer ever carried. */
function beyondLog(minIndex: number, lastIndex: number): ClusterRefused {
  return new ClusterRefused({
    kind: 'invalid',
    detail: `minIndex ${minIndex} is beyond the end of the log (index ${lastIndex})`,
  });
}

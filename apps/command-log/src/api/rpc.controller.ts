import { Controller, Logger, UseGuards } from '@nestjs/common';
import { RpcAuthGuard } from '@parley/app-kit';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ConfChangeType, ReadMode, Role } from '@parley/raft';
import { ReplicaService } from '../replica.service';
import {
  NOT_A_MEMBER,
  NodeStatus,
  PROPOSE_BATCH_MAX,
  ProposeBatchRequest,
  ProposeBatchResponse,
  ProposeRequest,
  ProposeResponse,
  READ_BATCH_MAX,
  RPC,
  ReadBatchRequest,
  TEMPORARY_REFUSALS,
  ReadBatchResponse,
  ReadRequest,
  ReadResponse,
  WATCH_EVENTS_MAX,
  WATCH_WAIT_MS_MAX,
  WatchRequest,
  WatchResponse,
} from '@parley/command-log-api';
import type { ProposeOutcome, ReadOutcome } from '@parley/replica';

const DEFAULT_TIMEOUT_MS = 5_000;
/** Watch reads waiting at once on this replica; beyond it a read answers without waiting. */
const WATCH_WAITERS_MAX = 1_000;

const isIndex = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
const TIMEOUT_MS_MAX = 60_000;

function withTimeout<T, U>(
  promise: Promise<T>,
  timeoutMs: number | undefined,
  onTimeout: U,
): Promise<T | U> {
  const ms = Math.min(Math.max(1, timeoutMs ?? DEFAULT_TIMEOUT_MS), TIMEOUT_MS_MAX);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(onTimeout), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(onTimeout);
      },
    );
  });
}

/** A caller's trace id, cut to a loggable shape (it is untrusted input). */
function traceOf(traceId: unknown): string {
  return typeof traceId === 'string' ? traceId.replace(/[^\w:@/.-]/g, '').slice(0, 80) : '-';
}

/** A proposal's outcome as the contract says it: temporary refusals apart from final ones. */
function answerOf(outcome: ProposeOutcome): ProposeResponse {
  if (outcome.status === 'applied')
    return { status: 'applied', index: outcome.index, result: outcome.result };
  if (outcome.status === 'dropped') return { status: 'dropped' };
  const refusal = outcome.refusal;
  if (refusal.reason === 'not-leader')
    return { status: 'not-leader', leaderId: refusal.leaderHint };
  if (refusal.reason === 'no-leader') return { status: 'not-leader', leaderId: null };
  if (TEMPORARY_REFUSALS.has(refusal.reason))
    return { status: 'unavailable', reason: refusal.reason };
  return {
    status: 'rejected',
    reason: refusal.reason,
    ...('detail' in refusal ? { detail: refusal.detail } : {}),
  };
}

/**
 * The microservice API decision-api calls: thin, every rule lives in the replica and core.
 * Every request must be signed with the RPC secret (RpcAuthGuard).
 */
@Controller()
@UseGuards(RpcAuthGuard)
export class RpcController {
  private readonly logger = new Logger('Rpc');

  constructor(private readonly service: ReplicaService) {}

  @MessagePattern(RPC.propose)
  async propose(@Payload() request: ProposeRequest): Promise<ProposeResponse> {
    const status = this.service.replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader', leaderId: status.lead || null };
    return this.proposeOne(request.command, request.timeoutMs, traceOf(request.traceId));
  }

  /**
   * Proposals decision-api gathered from concurrent requests: all are handed to the replica in
   * one turn, so they share one Ready, one WAL fsync and one append per follower, and each gets
   * its own answer.
   */
  @MessagePattern(RPC.proposeBatch)
  async proposeBatch(@Payload() request: ProposeBatchRequest): Promise<ProposeBatchResponse> {
    const proposals = request.proposals;
    if (!Array.isArray(proposals) || proposals.length > PROPOSE_BATCH_MAX)
      return {
        status: 'rejected',
        reason: `proposals must be an array of at most ${PROPOSE_BATCH_MAX}`,
      };
    const status = this.service.replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader', leaderId: status.lead || null };
    const answers = await Promise.all(
      proposals.map((proposal) =>
        typeof proposal === 'object' && proposal !== null
          ? this.proposeOne(proposal.command, request.timeoutMs, traceOf(proposal.traceId))
          : ({ status: 'rejected', reason: 'a proposal must be an object' } as const),
      ),
    );
    return { status: 'answered', answers };
  }

  private async proposeOne(
    command: Record<string, unknown>,
    timeoutMs: number | undefined,
    trace: string,
  ): Promise<ProposeResponse> {
    if (typeof command !== 'object' || command === null || Array.isArray(command))
      return { status: 'rejected', reason: 'command must be an object' };
    // The leader's clock, written into the log, drives every time-based decision (deadlines).
    const encoded = this.service.stateMachine.encodeCommand({ ...command, ts: Date.now() });
    if ('error' in encoded) return { status: 'rejected', reason: encoded.error };
    const outcome = await withTimeout(
      this.service.replica.propose(encoded.bytes),
      timeoutMs,
      'timeout' as const,
    );
    if (outcome === 'timeout') return { status: 'timeout' };
    if (outcome.status === 'applied') {
      this.logger.debug(
        `applied ${String(command.type)} requestId=${String(command.requestId)} ` +
          `index=${outcome.index} trace=${trace}`,
      );
      return { status: 'applied', index: outcome.index, result: outcome.result };
    }
    return answerOf(outcome);
  }

  @MessagePattern(RPC.read)
  async read(@Payload() request: ReadRequest): Promise<ReadResponse> {
    return this.readOne(request, request.timeoutMs, this.readPoints(request.timeoutMs));
  }

  /**
   * Reads decision-api gathered from concurrent requests. The leader takes one read point per
   * mode for the whole batch (one ReadIndex round, not one per read): every read in the batch
   * arrived before that point was taken, so each still sees every write acknowledged before it
   * began (linearizable), as etcd batches its ReadIndex requests.
   */
  @MessagePattern(RPC.readBatch)
  async readBatch(@Payload() request: ReadBatchRequest): Promise<ReadBatchResponse> {
    const reads = request.reads;
    if (!Array.isArray(reads) || reads.length > READ_BATCH_MAX)
      return { status: 'rejected', reason: `reads must be an array of at most ${READ_BATCH_MAX}` };
    if (reads.some((read) => typeof read !== 'object' || read === null))
      return { status: 'rejected', reason: 'a read must be an object' };
    const status = this.service.replica.status();
    if (status.role !== Role.Leader && reads.some((read) => read.consistency !== 'stale'))
      return { status: 'not-leader', leaderId: status.lead || null };
    const readPoint = this.readPoints(request.timeoutMs);
    const answers = await Promise.all(
      reads.map((read) => this.readOne(read, request.timeoutMs, readPoint)),
    );
    return { status: 'answered', answers };
  }

  /** Read points by mode, each asked of the replica once and shared by every read given it. */
  private readPoints(
    timeoutMs: number | undefined,
  ): (mode: ReadMode) => Promise<ReadOutcome | 'timeout'> {
    const points = new Map<ReadMode, Promise<ReadOutcome | 'timeout'>>();
    return (mode) => {
      let point = points.get(mode);
      if (!point) {
        point = withTimeout(this.service.replica.readIndex(mode), timeoutMs, 'timeout');
        points.set(mode, point);
      }
      return point;
    };
  }

  private async readOne(
    request: Omit<ReadRequest, 'timeoutMs'>,
    timeoutMs: number | undefined,
    readPoint: (mode: ReadMode) => Promise<ReadOutcome | 'timeout'>,
  ): Promise<ReadResponse> {
    const replica = this.service.replica;
    const query = () => this.service.stateMachine.query(request.query);
    const waitMs = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (request.consistency === 'stale') {
      if (request.minIndex !== undefined && !(await replica.waitApplied(request.minIndex, waitMs)))
        return { status: 'timeout' };
      return {
        status: 'ok',
        index: replica.applied,
        result: query(),
        stalenessMs: replica.stalenessMs(),
      };
    }
    const status = replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader', leaderId: status.lead || null };
    if (request.minIndex !== undefined && request.minIndex > status.lastIndex)
      return { status: 'beyond-log', lastIndex: status.lastIndex };
    const outcome = await readPoint(request.consistency === 'lease' ? 'lease' : 'read-index');
    if (outcome === 'timeout') return { status: 'timeout' };
    if (outcome.status === 'refused') return { status: 'unavailable', reason: outcome.reason };
    const minIndex = Math.max(outcome.index, request.minIndex ?? 0);
    if (!(await replica.waitApplied(minIndex, waitMs))) return { status: 'timeout' };
    return { status: 'ok', index: replica.applied, result: query() };
  }

  /**
   * Decision events after an index, from this replica's ring: any replica answers (a follower
   * that is behind answers what it applied), so a watch survives the leader's loss. With
   * nothing newer yet, waits up to waitMs for the next applied entry (long poll).
   */
  @MessagePattern(RPC.watch)
  async watch(@Payload() request: WatchRequest): Promise<WatchResponse> {
    const { afterIndex, waitMs = 0, eventsMax = WATCH_EVENTS_MAX } = request ?? {};
    if (afterIndex !== undefined && !isIndex(afterIndex))
      return { status: 'rejected', reason: 'afterIndex must be a non-negative integer' };
    if (!isIndex(waitMs) || !isIndex(eventsMax) || eventsMax < 1)
      return { status: 'rejected', reason: 'waitMs and eventsMax must be non-negative integers' };
    const ring = this.service.decisionRing;
    if (afterIndex !== undefined)
      await ring.waitAfter(afterIndex, Math.min(waitMs, WATCH_WAIT_MS_MAX), WATCH_WAITERS_MAX);
    return ring.read(
      afterIndex,
      Math.min(eventsMax, WATCH_EVENTS_MAX),
      this.service.replica.applied,
    );
  }

  @MessagePattern(RPC.status)
  status(): NodeStatus {
    const replica = this.service.replica;
    const status = replica.status();
    const peers = replica.peers();
    const address = peers.get(status.id);
    return {
      id: status.id,
      address: address ? `${address.host}:${address.port}` : '',
      role: status.role,
      term: status.term,
      leader: status.lead || null,
      commitIndex: status.commit,
      appliedIndex: status.appliedIndex,
      lastContactMs: Object.fromEntries(status.lastContactMs),
      members: { voters: [...status.confState.voters], learners: [...status.confState.learners] },
      peers: Object.fromEntries([...peers].map(([id, a]) => [id, `${a.host}:${a.port}`])),
      snapshotIndex: replica.snapshotIndex,
      snapshotPendingUpload: this.service.pendingUpload() ?? null,
    };
  }

  @MessagePattern(RPC.transferLeadership)
  async transferLeadership(
    @Payload() request: { to?: string },
  ): Promise<{ status: string; to?: string }> {
    const replica = this.service.replica;
    const status = replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader' };
    const to =
      request.to ??
      [...status.progress.entries()]
        .filter(([id, p]) => id !== status.id && !p.isLearner)
        .sort((a, b) => b[1].match - a[1].match)[0]?.[0];
    if (!to) return { status: 'rejected' };
    await replica.transferLeadership(to);
    return { status: 'accepted', to };
  }

  /**
   * Membership changes run on the leader only: a follower answers not-leader (the caller
   * follows the hint) rather than forwarding a change it could not report on. `force` skips
   * the strict reconfiguration check.
   */
  @MessagePattern(RPC.addMember)
  async addMember(
    @Payload() request: { id: string; address: string; learner?: boolean; force?: boolean },
  ): Promise<ProposeResponse> {
    const status = this.service.replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader', leaderId: status.lead || null };
    const outcome = await this.service.replica.changeMembership(
      {
        transition: 'auto',
        changes: [
          {
            type: request.learner ? ConfChangeType.AddLearner : ConfChangeType.AddNode,
            nodeId: request.id,
          },
        ],
        context: request.address,
      },
      request.force === true,
    );
    return answerOf(outcome);
  }

  @MessagePattern(RPC.removeMember)
  async removeMember(
    @Payload() request: { id: string; force?: boolean },
  ): Promise<ProposeResponse> {
    const status = this.service.replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader', leaderId: status.lead || null };
    // Like etcd's "member not found": removing a stranger is an error, not a silent no-op.
    const { voters, learners } = status.confState;
    if (![...voters, ...learners].includes(request.id))
      return { status: 'rejected', reason: NOT_A_MEMBER };
    const outcome = await this.service.replica.changeMembership(
      { transition: 'auto', changes: [{ type: ConfChangeType.RemoveNode, nodeId: request.id }] },
      request.force === true,
    );
    return answerOf(outcome);
  }

  @MessagePattern(RPC.snapshot)
  async snapshot(): Promise<
    | { status: 'taken'; index: number; node: string }
    | { status: 'not-leader'; leaderId: string | null }
  > {
    // Taken on the leader, so "snapshot now" means the same replica whichever one is asked.
    const status = this.service.replica.status();
    if (status.role !== Role.Leader) return { status: 'not-leader', leaderId: status.lead || null };
    return { status: 'taken', index: await this.service.replica.snapshotNow(), node: status.id };
  }
}

import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { RpcVerifier } from '@parley/app-kit';
import {
  NodeStatus,
  ProposeBatchRequest,
  ProposeBatchResponse,
  RPC,
  ReadBatchRequest,
  ReadBatchResponse,
} from '@parley/command-log-api';
import { freePort } from './ports';

export const SCRIPTED_REPLICA_SECRET = 'scripted-replica-secret-0123456789';

/**
 * A command-log stand-in whose role, leader and liveness a test sets: it answers the batch
 * patterns and status over the real Nest TCP transport, signed requests only, and while
 * `frozen` it answers nothing at all (as a process under SIGSTOP: the socket takes the bytes,
 * nothing comes back) until it is thawed. It applies every proposal it leads for, and records
 * what reached it.
 */
@Controller()
export class ScriptedReplicaController {
  id = '';
  address = '';
  role: 'leader' | 'follower' = 'follower';
  leader: string | null = null;
  /** requestIds of the proposals that reached this replica, frozen or not. */
  readonly proposalsReceived: string[] = [];
  /** Stale reads that reached it. */
  staleReadsReceived = 0;
  /** not-leader answers it gave. */
  notLeaderAnswers = 0;
  private frozen: Promise<void> | undefined;
  private thaw: (() => void) | undefined;
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private readonly verifier = new RpcVerifier(SCRIPTED_REPLICA_SECRET);

  freeze(): void {
    this.frozen ??= new Promise((resolve) => (this.thaw = resolve));
  }

  unfreeze(): void {
    this.thaw?.();
    this.frozen = undefined;
  }

  /**
   * Proposals and reads wait (a leader cut off from its followers cannot commit) while status
   * is still answered at once, until `releaseRequests`.
   */
  holdRequests(): void {
    this.held ??= new Promise((resolve) => (this.release = resolve));
  }

  releaseRequests(): void {
    this.release?.();
    this.held = undefined;
  }

  @MessagePattern(RPC.proposeBatch)
  async proposeBatch(@Payload() payload: unknown): Promise<ProposeBatchResponse> {
    const request = this.verified<ProposeBatchRequest>(RPC.proposeBatch, payload);
    for (const p of request.proposals) this.proposalsReceived.push(String(p.command.requestId));
    await this.frozen;
    await this.held;
    if (this.role !== 'leader') return this.notLeader();
    return {
      status: 'answered',
      answers: request.proposals.map((p, i) => ({
        status: 'applied',
        index: i + 1,
        result: { result: { appliedBy: this.id, requestId: p.command.requestId }, replayed: false },
      })),
    };
  }

  @MessagePattern(RPC.readBatch)
  async readBatch(@Payload() payload: unknown): Promise<ReadBatchResponse> {
    const request = this.verified<ReadBatchRequest>(RPC.readBatch, payload);
    const stale = request.reads.every((read) => read.consistency === 'stale');
    if (stale) this.staleReadsReceived += request.reads.length;
    await this.frozen;
    await this.held;
    if (!stale && this.role !== 'leader') return this.notLeader();
    return {
      status: 'answered',
      answers: request.reads.map(() => ({ status: 'ok', index: 1, result: { readFrom: this.id } })),
    };
  }

  @MessagePattern(RPC.status)
  async status(@Payload() payload: unknown): Promise<NodeStatus> {
    this.verified(RPC.status, payload);
    await this.frozen;
    return {
      id: this.id,
      address: this.address,
      role: this.role,
      term: 1,
      leader: this.leader,
      commitIndex: 1,
      appliedIndex: 1,
      lastContactMs: {},
      members: { voters: [], learners: [] },
      snapshotIndex: 0,
      snapshotPendingUpload: null,
    };
  }

  private notLeader(): { status: 'not-leader'; leaderId: string | null } {
    this.notLeaderAnswers += 1;
    return { status: 'not-leader', leaderId: this.leader };
  }

  private verified<T>(pattern: string, payload: unknown): T {
    const verdict = this.verifier.verify(pattern, payload);
    if (!verdict.ok) throw new Error(`unsigned ${pattern}: ${verdict.reason}`);
    return verdict.body as T;
  }
}

@Module({ controllers: [ScriptedReplicaController] })
class ScriptedReplicaModule {}

/** `ids.length` scripted replicas on loopback, the first one leading. */
export async function startScriptedReplicas(ids: readonly string[]): Promise<{
  replicas: ScriptedReplicaController[];
  addresses: string[];
  close: () => Promise<void>;
}> {
  const apps: INestMicroservice[] = [];
  const replicas: ScriptedReplicaController[] = [];
  for (const id of ids) {
    const port = await freePort();
    const app = await NestFactory.createMicroservice(ScriptedReplicaModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    const replica = app.get(ScriptedReplicaController);
    replica.id = id;
    replica.address = `127.0.0.1:${port}`;
    replica.leader = ids[0];
    replica.role = id === ids[0] ? 'leader' : 'follower';
    apps.push(app);
    replicas.push(replica);
  }
  return {
    replicas,
    addresses: replicas.map((r) => r.address),
    close: async () => {
      for (const replica of replicas) {
        replica.unfreeze();
        replica.releaseRequests();
      }
      for (const app of apps) await app.close();
    },
  };
}

import { Controller, Module } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RpcVerifier } from '@parley/app-kit';
import { NodeStatus, RPC } from '@parley/command-log-api';

export const OLDER_REPLICA_SECRET = 'older-replica-secret-0123456789';
export const OLDER_REPLICA_ID = 'old1';

/**
 * What a command-log from before propose-batch and read-batch answers: the single patterns and
 * status, signed requests only, as a one-member cluster that leads itself. A stand-in for an
 * older version during a rolling upgrade, served over the real Nest transports.
 */
@Controller()
export class OlderReplicaController {
  readonly proposals: string[] = [];
  readonly reads: string[] = [];
  private readonly verifier = new RpcVerifier(OLDER_REPLICA_SECRET);

  @MessagePattern(RPC.propose)
  propose(@Payload() payload: unknown) {
    const verdict = this.verifier.verify(RPC.propose, payload);
    if (!verdict.ok) return { status: 'rejected', reason: verdict.reason };
    const { command } = verdict.body as { command: { key: string } };
    this.proposals.push(command.key);
    return {
      status: 'applied',
      index: this.proposals.length,
      result: { result: { status: 'ok', key: command.key }, replayed: false },
    };
  }

  @MessagePattern(RPC.read)
  read(@Payload() payload: unknown) {
    const verdict = this.verifier.verify(RPC.read, payload);
    if (!verdict.ok) return { status: 'unavailable', reason: verdict.reason };
    const { query, consistency } = verdict.body as { query: { key: string }; consistency: string };
    this.reads.push(`${consistency}:${query.key}`);
    return { status: 'ok', index: 7, result: { found: true, value: query.key } };
  }

  @MessagePattern(RPC.status)
  status(@Payload() payload: unknown): NodeStatus | { status: string } {
    if (!this.verifier.verify(RPC.status, payload).ok) return { status: 'rejected' };
    return {
      id: OLDER_REPLICA_ID,
      address: '127.0.0.1:0',
      role: 'leader',
      term: 1,
      leader: OLDER_REPLICA_ID,
      commitIndex: this.proposals.length,
      appliedIndex: this.proposals.length,
      lastContactMs: {},
      members: { voters: [OLDER_REPLICA_ID], learners: [] },
      snapshotIndex: 0,
      snapshotPendingUpload: null,
    };
  }
}

@Module({ controllers: [OlderReplicaController] })
export class OlderReplicaModule {}

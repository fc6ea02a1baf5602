import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { NOT_A_MEMBER, RPC } from '@parley/command-log-api';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/api-keys';
import { BODIES, fieldsOf } from './body-schemas';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { GossipUpstream } from '../cluster-client/http-upstream';
import { Problem } from './problem';

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$/;

function fields(body: unknown, allowed: string[]): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Problem(400, 'Bad Request', 'the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw new Problem(400, 'Bad Request', 'the request is not valid', {
      errors: unknown.map((k) => `${k} is not a field of this request`),
    });
  return body as Record<string, unknown>;
}

/** Operators' routes (SPEC.md §3) and the membership view from gossip. */
@ApiTags('cluster')
@ApiBearerAuth()
@Controller('v1')
export class ClusterController {
  constructor(
    private readonly log: CommandLogClient,
    private readonly gossip: GossipUpstream,
  ) {}

  @Get('cluster')
  @Roles('operator', 'reader')
  async cluster() {
    const statuses = await this.log.statuses();
    if (statuses.length === 0)
      throw new Problem(503, 'Service Unavailable', 'no command-log replica answered', {
        retryAfterSeconds: 1,
      });
    const leaderStatus = statuses.find((s) => s.role === 'leader');
    return {
      leader: leaderStatus?.id ?? statuses.find((s) => s.leader)?.leader ?? null,
      term: Math.max(...statuses.map((s) => s.term)),
      // The configuration as the leader (or else any replica) has it, learners included.
      members: (leaderStatus ?? statuses[0]).members,
      nodes: statuses.map((s) => ({
        id: s.id,
        address: s.address,
        role: s.role,
        commitIndex: s.commitIndex,
        appliedIndex: s.appliedIndex,
        lastContactMs: s.lastContactMs,
        snapshotIndex: s.snapshotIndex,
        snapshotPendingUpload: s.snapshotPendingUpload,
      })),
    };
  }

  @ApiBody({ schema: BODIES.transfer })
  @Post('cluster/transfer-leadership')
  @HttpCode(202)
  @Roles('operator')
  async transfer(@Body() body: unknown) {
    const { to } = fields(body, fieldsOf(BODIES.transfer));
    if (to !== undefined && (typeof to !== 'string' || !ID.test(to)))
      throw new Problem(400, 'Bad Request', 'to must be a node id');
    const answer = await this.log.operate<{ status: string; to?: string }>(
      RPC.transferLeadership,
      to ? { to } : {},
    );
    if (answer.status !== 'accepted')
      throw new Problem(409, 'Conflict', 'no follower to transfer leadership to');
    return answer;
  }

  @ApiBody({ schema: BODIES.member })
  @Post('cluster/members')
  @HttpCode(202)
  @Roles('operator')
  async addMember(@Body() body: unknown) {
    const { id, address, learner } = fields(body, fieldsOf(BODIES.member));
    const errors = [
      ...(typeof id === 'string' && ID.test(id) ? [] : ['id must be a node id']),
      ...(typeof address === 'string' && ADDRESS.test(address)
        ? []
        : ['address must be host:port']),
      ...(learner === undefined || typeof learner === 'boolean'
        ? []
        : ['learner must be a boolean']),
    ];
    if (errors.length > 0)
      throw new Problem(400, 'Bad Request', 'the request is not valid', { errors });
    return this.membership(RPC.addMember, { id, address, learner: learner === true });
  }

  @Delete('cluster/members/:id')
  @HttpCode(202)
  @Roles('operator')
  async removeMember(@Param('id') id: string) {
    if (!ID.test(id)) throw new Problem(400, 'Bad Request', 'id must be a node id');
    return this.membership(RPC.removeMember, { id });
  }

  @Post('cluster/snapshot')
  @HttpCode(202)
  @Roles('operator')
  async snapshot() {
    const { index, node } = await this.log.operate<{ index: number; node: string }>(
      RPC.snapshot,
      {},
    );
    return { index, node };
  }

  @Get('agents')
  @Roles('reader', 'agent', 'operator')
  async agents() {
    const { json } = await this.gossip.call('GET', '/v1/agents');
    return json;
  }

  private async membership(pattern: string, body: object) {
    const answer = await this.log.operate<{ status: string; reason?: string; index?: number }>(
      pattern,
      body,
    );
    if (answer.status === 'rejected' && answer.reason === NOT_A_MEMBER)
      throw new Problem(404, 'Not Found', 'no such member in the cluster');
    if (answer.status === 'rejected') throw new Problem(409, 'Conflict', answer.reason);
    return { status: answer.status, index: answer.index };
  }
}

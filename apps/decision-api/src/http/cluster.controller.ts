import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { RPC } from '@parley/command-log-api';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/api-keys';
import { BODIES, MEMBER_REMOVE_QUERY, MemberRemoveQuery } from '@parley/decision-api-contract';
import { DocumentedBody, QueryDocs } from './docs';
import { ValidBody, ZodValidationPipe } from './validation';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { ClusterView, clusterView } from './cluster-view';
import { AsyncRequests } from '../async/async-requests';
import type { z } from 'zod';
import { GossipUpstream } from '../cluster-client/http-upstream';
import { Problem } from './problem';

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MEMBER_REMOVE_QUERY_PIPE = new ZodValidationPipe(MEMBER_REMOVE_QUERY, 'query');

/** Operators' routes (SPEC.md §3) and the membership view from gossip. */
@ApiTags('cluster')
@ApiBearerAuth()
@Controller('v1')
export class ClusterController {
  constructor(
    private readonly log: CommandLogClient,
    private readonly gossip: GossipUpstream,
    private readonly asyncRequests: AsyncRequests,
  ) {}

  @ApiOperation({
    summary: 'the replicas, the leader and the configuration',
    description:
      'Every member is listed: a replica that does not answer within a second has role ' +
      '"unreachable" (commitIndex and appliedIndex null). lastContactMs is one number per ' +
      'node: milliseconds since the leader last heard from it (0 for the leader itself), or ' +
      'the freshest view of any answering replica when no leader answers. outbox: this ' +
      "decision-api process's respond-async outbox (state off, idle, pending or buffered; " +
      'depth in requests, bytes).',
  })
  @Get('cluster')
  @Roles('operator', 'reader')
  async cluster() {
    const statuses = await this.log.statuses();
    if (statuses.length === 0)
      throw new Problem(503, 'Service Unavailable', 'no command-log replica answered', {
        retryAfterSeconds: 1,
      });
    return { ...clusterView(statuses), outbox: this.asyncRequests.view() } satisfies ClusterView;
  }

  @DocumentedBody(BODIES.transfer)
  @Post('cluster/transfer-leadership')
  @HttpCode(202)
  @Roles('operator')
  async transfer(@ValidBody(BODIES.transfer) { to }: { to?: string }) {
    const answer = await this.log.operate<{ status: string; to?: string }>(
      RPC.transferLeadership,
      to ? { to } : {},
    );
    if (answer.status !== 'accepted')
      throw new Problem(409, 'Conflict', 'no follower to transfer leadership to');
    return answer;
  }

  @ApiOperation({
    summary: 'add a voter or a learner',
    description:
      'Strict reconfiguration check: a change of voters that would leave fewer reachable ' +
      'voters than a quorum (a new voter counts as unreachable until it answers) is refused ' +
      'with 409, problem type reconfiguration-unsafe, naming the numbers. Add a new node as a ' +
      'learner first and promote it once caught up; `force: true` skips the check. 503 with ' +
      'Retry-After while leadership is being transferred.',
  })
  @DocumentedBody(BODIES.member)
  @Post('cluster/members')
  @HttpCode(202)
  @Roles('operator')
  async addMember(
    @ValidBody(BODIES.member)
    { id, address, learner, force }: z.output<typeof BODIES.member.validated>,
  ) {
    return this.log.changeMembership(RPC.addMember, {
      id,
      address,
      learner: learner === true,
      force: force === true,
    });
  }

  @ApiOperation({
    summary: 'remove a member',
    description:
      'Removing a voter while the remaining voters lack a reachable quorum is refused with 409 ' +
      'reconfiguration-unsafe unless force=true; a stranger is 404.',
  })
  @QueryDocs(MEMBER_REMOVE_QUERY)
  @Delete('cluster/members/:id')
  @HttpCode(202)
  @Roles('operator')
  async removeMember(
    @Param('id') id: string,
    @Query(MEMBER_REMOVE_QUERY_PIPE) { force }: MemberRemoveQuery,
  ) {
    if (!ID.test(id)) throw new Problem(400, 'Bad Request', 'id must be a node id');
    return this.log.changeMembership(RPC.removeMember, { id, force });
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
}

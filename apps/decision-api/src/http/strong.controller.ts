import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiKeys, Caller, CallerOf, Roles } from '../auth/api-keys';
import {
  BODIES,
  KV_DELETE_QUERY,
  KvDeleteQuery,
  READ_QUERY,
  ReadQuery,
} from '@parley/decision-api-contract';
import { CommandBody, ZodValidationPipe } from './validation';
import { QueryDocs, ReadQueryDocs, StrongWriteDocs } from './docs';
import { Problem } from './problem';
import { Answer, StrongDecisions } from './strong-decisions';

const READ_QUERY_PIPE = new ZodValidationPipe(READ_QUERY, 'query');
const KV_DELETE_QUERY_PIPE = new ZodValidationPipe(KV_DELETE_QUERY, 'query');

function versionConflict(key: string, result: Record<string, unknown>): Problem {
  return new Problem(409, 'Conflict', `key ${key} is at version ${String(result.currentVersion)}`);
}

/**
 * The strong routes of SPEC.md §3: each turns into one command on the Raft log (through the
 * leader) or one read with the requested consistency. Domain refusals (out of stock, over
 * budget) are decisions: 200 with status "rejected".
 */
@ApiTags('strong')
@ApiBearerAuth()
@Controller('v1')
export class StrongController {
  constructor(
    private readonly decisions: StrongDecisions,
    private readonly keys: ApiKeys,
  ) {}

  // ---- KV with versions and compare-and-set --------------------------------------------

  @StrongWriteDocs(BODIES.kvPut)
  @Put('kv/:key')
  @Roles('agent', 'operator')
  async putKv(
    @Param('key') key: string,
    @CommandBody(BODIES.kvPut) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(res, 'kv.put', body, { key });
    if (result.status === 'conflict') throw versionConflict(key, result);
    return { key: result.key, value: result.value, version: result.version, index: result.index };
  }

  @ReadQueryDocs()
  @Get('kv/:key')
  @Roles('reader', 'agent', 'operator')
  async getKv(
    @Param('key') key: string,
    @Query(READ_QUERY_PIPE) params: ReadQuery,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const { index, found } = await this.decisions.read<{ value: string; version: number }>(
      res,
      { type: 'kv.get', key },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no key ${key}`);
    return { key, value: found.value!.value, version: found.value!.version, index };
  }

  @StrongWriteDocs()
  @QueryDocs(KV_DELETE_QUERY)
  @Delete('kv/:key')
  @Roles('agent', 'operator')
  async deleteKv(
    @Param('key') key: string,
    @Query(KV_DELETE_QUERY_PIPE) { ifVersion }: KvDeleteQuery,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const body = {
      requestId: idem,
      ...(ifVersion === undefined ? {} : { ifVersion }),
    };
    const result = await this.decisions.apply(res, 'kv.delete', body, { key });
    if (result.status === 'not-found') throw new Problem(404, 'Not Found', `no key ${key}`);
    if (result.status === 'conflict') throw versionConflict(key, result);
    return { key, deleted: true, index: result.index };
  }

  // ---- inventory ----------------------------------------------------------------------------

  @StrongWriteDocs(BODIES.restock)
  @Post('inventory/:sku/restock')
  @HttpCode(200)
  @Roles('agent', 'operator')
  async restock(
    @Param('sku') sku: string,
    @CommandBody(BODIES.restock) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(res, 'inventory.restock', body, { sku });
    return { sku, available: result.available, reserved: result.reserved, index: result.index };
  }

  @StrongWriteDocs(BODIES.reserve)
  @Post('inventory/:sku/reservations')
  @HttpCode(200)
  @Roles('agent')
  async reserve(
    @Param('sku') sku: string,
    @CommandBody(BODIES.reserve) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(res, 'inventory.reserve', body, { sku });
    return {
      status: result.status,
      ...(result.reason ? { reason: result.reason } : {}),
      available: result.available,
      index: result.index,
    };
  }

  @StrongWriteDocs()
  @Delete('inventory/:sku/reservations/:orderId')
  @Roles('agent')
  async release(
    @Param('sku') sku: string,
    @Param('orderId') orderId: string,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(
      res,
      'inventory.release',
      { requestId: idem },
      { sku, orderId },
    );
    if (result.status === 'not-found')
      throw new Problem(404, 'Not Found', `no reservation ${orderId} on ${sku}`);
    return { status: result.status, available: result.available };
  }

  @ReadQueryDocs()
  @Get('inventory/:sku')
  @Roles('reader', 'agent', 'operator')
  async inventory(
    @Param('sku') sku: string,
    @Query(READ_QUERY_PIPE) params: ReadQuery,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const { found } = await this.decisions.read<{ available: number; reserved: number }>(
      res,
      { type: 'inventory.get', sku },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no sku ${sku}`);
    return { sku, available: found.value!.available, reserved: found.value!.reserved };
  }

  // ---- budgets ---------------------------------------------------------------------------------

  @StrongWriteDocs(BODIES.budgetSet)
  @Put('budgets/:campaign')
  @Roles('agent', 'operator')
  async setBudget(
    @Param('campaign') campaign: string,
    @CommandBody(BODIES.budgetSet) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(res, 'budget.set', body, { campaign });
    return { campaign, limit: result.limit, spent: result.spent, remaining: result.remaining };
  }

  @StrongWriteDocs(BODIES.spend)
  @Post('budgets/:campaign/spend')
  @HttpCode(200)
  @Roles('agent')
  async spend(
    @Param('campaign') campaign: string,
    @CommandBody(BODIES.spend) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(res, 'budget.spend', body, { campaign });
    return {
      status: result.status,
      ...(result.reason ? { reason: result.reason } : {}),
      remaining: result.remaining,
      index: result.index,
    };
  }

  @ReadQueryDocs()
  @Get('budgets/:campaign')
  @Roles('reader', 'agent', 'operator')
  async budget(
    @Param('campaign') campaign: string,
    @Query(READ_QUERY_PIPE) params: ReadQuery,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const { found } = await this.decisions.read<Record<string, unknown>>(
      res,
      { type: 'budget.get', campaign },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no campaign ${campaign}`);
    return found.value;
  }

  // ---- proposals and votes -------------------------------------------------------------------

  @StrongWriteDocs(BODIES.propose)
  @Post('proposals')
  @HttpCode(201)
  @Roles('agent')
  async propose(
    @CommandBody(BODIES.propose) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const result = await this.decisions.apply(res, 'proposal.create', body, {});
    if (result.status === 'conflict')
      throw new Problem(409, 'Conflict', `proposal ${String(result.proposalId)} exists`);
    return { proposalId: result.proposalId, status: result.status };
  }

  @ApiOperation({
    summary: 'cast a vote',
    description:
      'A key bound to an agent (agent@<agentId>:key in PARLEY_API_KEYS) may vote only as that ' +
      'agent and may not name a weight: 403 otherwise (problem type agent-binding-mismatch). ' +
      'With PARLEY_VOTES_REQUIRE_BOUND_KEY=true an unbound agent key gets 403 ' +
      '(vote-key-not-bound). On a weighted proposal with policy.weights a vote weighs what the ' +
      'policy says; a vote naming another weight is not counted (reason weight-set-by-policy).',
  })
  @StrongWriteDocs(BODIES.vote)
  @Post('proposals/:id/votes')
  @HttpCode(200)
  @Roles('agent')
  async vote(
    @Param('id') proposalId: string,
    @CommandBody(BODIES.vote) body: Record<string, unknown>,
    @CallerOf() caller: Caller | undefined,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const refusal = this.keys.voteRefusal(caller, body);
    if (refusal) throw refusal;
    const result = await this.decisions.apply(res, 'proposal.vote', body, { proposalId });
    return {
      counted: result.counted,
      status: result.status,
      ...(result.outcome !== undefined ? { outcome: result.outcome } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
    };
  }

  @ReadQueryDocs()
  @Get('proposals/:id')
  @Roles('reader', 'agent', 'operator')
  async proposal(
    @Param('id') proposalId: string,
    @Query(READ_QUERY_PIPE) params: ReadQuery,
    @Res({ passthrough: true }) res: Answer,
  ) {
    const { found } = await this.decisions.read<Record<string, unknown>>(
      res,
      { type: 'proposal.get', proposalId },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no proposal ${proposalId}`);
    return found.value;
  }
}

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

/**
 * The strong routes of SPEC.md §3: each turns into one command on the Raft log (through the
 * leader) or one read with the requested consistency. Domain refusals (out of stock, over
 * budget) are decisions: 200 with status "rejected". A write's answer is its route's in
 * STRONG_ANSWERS (strong-answers.ts); with `Prefer: respond-async` it is 202 and decided later.
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
    return this.decisions.decide(res, 'kv.put', body, { key });
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
    return this.decisions.decide(res, 'kv.delete', body, { key });
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
    return this.decisions.decide(res, 'inventory.restock', body, { sku });
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
    return this.decisions.decide(res, 'inventory.reserve', body, { sku });
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
    return this.decisions.decide(res, 'inventory.release', { requestId: idem }, { sku, orderId });
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
    return this.decisions.decide(res, 'budget.set', body, { campaign });
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
    return this.decisions.decide(res, 'budget.spend', body, { campaign });
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
    return this.decisions.decide(res, 'proposal.create', body, {});
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
    return this.decisions.decide(res, 'proposal.vote', body, { proposalId });
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

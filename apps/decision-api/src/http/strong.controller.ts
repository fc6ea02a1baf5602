import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  Body,
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
import type { Response } from 'express';
import { ApiKeys, AuthenticatedRequest, Roles } from '../auth/api-keys';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { Metrics } from '../metrics/metrics';
import { DecisionActivity } from '../dashboard/decision-activity';
import { BODIES, fieldsOf } from './body-schemas';
import { ReadQueryDocs, StrongWriteDocs } from './docs';
import { Problem } from './problem';
import { readHeaders, readParams, strongCommand, strongHeaders } from './strong-request';

type Found<T> = { found: boolean; value?: T };

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
    private readonly log: CommandLogClient,
    private readonly metrics: Metrics,
    private readonly activity: DecisionActivity,
    private readonly keys: ApiKeys,
  ) {}

  private async apply(
    response: Response,
    type: string,
    body: unknown,
    path: Record<string, string>,
    key: string | undefined,
    fields: readonly string[],
  ) {
    const traceId = response.getHeader('X-Request-Id');
    const started = performance.now();
    const applied = await this.log.propose(
      strongCommand(type, body, path, key, fields),
      typeof traceId === 'string' ? traceId : undefined,
    );
    strongHeaders(response, applied);
    if (!applied.replayed) {
      const outcome = String(applied.result.status ?? 'ok');
      this.metrics.decisions.inc({ type, outcome });
      this.activity.record({
        type,
        subject: Object.values(path).join('/'),
        outcome,
        index: applied.index,
        latencyMs: performance.now() - started,
      });
    }
    return applied;
  }

  private async read<T>(
    response: Response,
    query: Record<string, unknown>,
    params: Record<string, unknown>,
  ) {
    const { consistency, minIndex } = readParams(params);
    const read = await this.log.read(query, consistency, minIndex);
    readHeaders(response, read);
    return { index: read.index, found: read.result as Found<T> };
  }

  // ---- KV with versions and compare-and-set --------------------------------------------

  @ApiBody({ schema: BODIES.kvPut })
  @StrongWriteDocs()
  @Put('kv/:key')
  @Roles('agent', 'operator')
  async putKv(
    @Param('key') key: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(res, 'kv.put', body, { key }, idem, fieldsOf(BODIES.kvPut));
    if (result.status === 'conflict')
      throw new Problem(
        409,
        'Conflict',
        `key ${key} is at version ${String(result.currentVersion)}`,
      );
    return { key: result.key, value: result.value, version: result.version, index: result.index };
  }

  @ReadQueryDocs()
  @Get('kv/:key')
  @Roles('reader', 'agent', 'operator')
  async getKv(
    @Param('key') key: string,
    @Query() params: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { index, found } = await this.read<{ value: string; version: number }>(
      res,
      { type: 'kv.get', key },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no key ${key}`);
    return { key, value: found.value!.value, version: found.value!.version, index };
  }

  @StrongWriteDocs()
  @Delete('kv/:key')
  @Roles('agent', 'operator')
  async deleteKv(
    @Param('key') key: string,
    @Query('ifVersion') ifVersion: string | undefined,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const body = ifVersion === undefined ? {} : { ifVersion: Number(ifVersion) };
    const { result } = await this.apply(res, 'kv.delete', body, { key }, idem, ['ifVersion']);
    if (result.status === 'not-found') throw new Problem(404, 'Not Found', `no key ${key}`);
    if (result.status === 'conflict')
      throw new Problem(
        409,
        'Conflict',
        `key ${key} is at version ${String(result.currentVersion)}`,
      );
    return { key, deleted: true, index: result.index };
  }

  // ---- inventory ----------------------------------------------------------------------------

  @ApiBody({ schema: BODIES.restock })
  @StrongWriteDocs()
  @Post('inventory/:sku/restock')
  @HttpCode(200)
  @Roles('agent', 'operator')
  async restock(
    @Param('sku') sku: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(
      res,
      'inventory.restock',
      body,
      { sku },
      idem,
      fieldsOf(BODIES.restock),
    );
    return { sku, available: result.available, reserved: result.reserved, index: result.index };
  }

  @ApiBody({ schema: BODIES.reserve })
  @StrongWriteDocs()
  @Post('inventory/:sku/reservations')
  @HttpCode(200)
  @Roles('agent')
  async reserve(
    @Param('sku') sku: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(
      res,
      'inventory.reserve',
      body,
      { sku },
      idem,
      fieldsOf(BODIES.reserve),
    );
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
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(res, 'inventory.release', {}, { sku, orderId }, idem, []);
    if (result.status === 'not-found')
      throw new Problem(404, 'Not Found', `no reservation ${orderId} on ${sku}`);
    return { status: result.status, available: result.available };
  }

  @ReadQueryDocs()
  @Get('inventory/:sku')
  @Roles('reader', 'agent', 'operator')
  async inventory(
    @Param('sku') sku: string,
    @Query() params: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { found } = await this.read<{ available: number; reserved: number }>(
      res,
      { type: 'inventory.get', sku },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no sku ${sku}`);
    return { sku, available: found.value!.available, reserved: found.value!.reserved };
  }

  // ---- budgets ---------------------------------------------------------------------------------

  @ApiBody({ schema: BODIES.budgetSet })
  @StrongWriteDocs()
  @Put('budgets/:campaign')
  @Roles('agent', 'operator')
  async setBudget(
    @Param('campaign') campaign: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(
      res,
      'budget.set',
      body,
      { campaign },
      idem,
      fieldsOf(BODIES.budgetSet),
    );
    return { campaign, limit: result.limit, spent: result.spent, remaining: result.remaining };
  }

  @ApiBody({ schema: BODIES.spend })
  @StrongWriteDocs()
  @Post('budgets/:campaign/spend')
  @HttpCode(200)
  @Roles('agent')
  async spend(
    @Param('campaign') campaign: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(
      res,
      'budget.spend',
      body,
      { campaign },
      idem,
      fieldsOf(BODIES.spend),
    );
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
    @Query() params: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { found } = await this.read<Record<string, unknown>>(
      res,
      { type: 'budget.get', campaign },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no campaign ${campaign}`);
    return found.value;
  }

  // ---- proposals and votes -------------------------------------------------------------------

  @ApiBody({ schema: BODIES.propose })
  @StrongWriteDocs()
  @Post('proposals')
  @HttpCode(201)
  @Roles('agent')
  async propose(
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { result } = await this.apply(
      res,
      'proposal.create',
      body,
      {},
      idem,
      fieldsOf(BODIES.propose),
    );
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
  @ApiBody({ schema: BODIES.vote })
  @StrongWriteDocs()
  @Post('proposals/:id/votes')
  @HttpCode(200)
  @Roles('agent')
  async vote(
    @Param('id') proposalId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idem: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    // The guard left the caller on the request (Express's and the fast lane's alike).
    const refusal = this.keys.voteRefusal((res.req as AuthenticatedRequest).caller, body);
    if (refusal) throw refusal;
    const { result } = await this.apply(
      res,
      'proposal.vote',
      body,
      { proposalId },
      idem,
      fieldsOf(BODIES.vote),
    );
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
    @Query() params: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { found } = await this.read<Record<string, unknown>>(
      res,
      { type: 'proposal.get', proposalId },
      params,
    );
    if (!found.found) throw new Problem(404, 'Not Found', `no proposal ${proposalId}`);
    return found.value;
  }
}

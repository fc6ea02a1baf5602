import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/api-keys';
import { BODIES } from '@parley/decision-api-contract';
import { DocumentedBody } from './docs';
import { ValidBody } from './validation';
import { CrdtWrite, checkWrite } from '@parley/crdt';
import { EventualWrites } from '../cluster-client/eventual-writes';
import { CrdtUpstream } from '../cluster-client/http-upstream';
import { Problem } from './problem';

/**
 * The eventual routes of SPEC.md §3 (counters, sets, flags). Writes are checked here as the
 * replica checks them (a bad name or element is a 400 without a hop), then gathered with those
 * of concurrent callers into one call to the local crdt replica (EventualWrites), which answers
 * each 202 once its delta is on its disk. Reads are forwarded; the replica's 400s come back as
 * problems.
 */
@ApiTags('eventual')
@ApiBearerAuth()
@Controller('v1')
export class EventualController {
  constructor(
    private readonly crdt: CrdtUpstream,
    private readonly writes: EventualWrites,
  ) {}

  private async write(raw: Record<string, unknown>) {
    let write: CrdtWrite;
    try {
      write = checkWrite(raw);
    } catch (error) {
      throw new Problem(400, 'Bad Request', (error as Error).message);
    }
    const answer = await this.writes.submit(write);
    if (answer.status !== 202)
      throw new Problem(
        answer.status,
        answer.status === 400 ? 'Bad Request' : 'Error',
        answer.message,
      );
    return { accepted: true, name: write.name };
  }

  private async forward(method: string, path: string, body?: unknown) {
    const { status, json } = await this.crdt.call(method, path, body);
    if (status >= 400) {
      const message = (json as { message?: unknown })?.message;
      throw new Problem(
        status,
        status === 400 ? 'Bad Request' : 'Error',
        typeof message === 'string' ? message : undefined,
      );
    }
    return json;
  }

  @DocumentedBody(BODIES.increment)
  @Post('counters/:name/increment')
  @HttpCode(202)
  @Roles('agent')
  increment(
    @Param('name') name: string,
    @ValidBody(BODIES.increment) body: Record<string, unknown>,
  ) {
    return this.write({ ...body, op: 'increment', name });
  }

  @Get('counters/:name')
  @Roles('reader', 'agent', 'operator')
  counter(@Param('name') name: string) {
    return this.forward('GET', `/v1/counters/${encodeURIComponent(name)}`);
  }

  @DocumentedBody(BODIES.element)
  @Post('sets/:name/elements')
  @HttpCode(202)
  @Roles('agent')
  add(@Param('name') name: string, @ValidBody(BODIES.element) body: Record<string, unknown>) {
    return this.write({ ...body, op: 'set-add', name });
  }

  @Delete('sets/:name/elements/:element')
  @HttpCode(202)
  @Roles('agent')
  remove(@Param('name') name: string, @Param('element') element: string) {
    return this.write({ op: 'set-remove', name, element });
  }

  @Get('sets/:name')
  @Roles('reader', 'agent', 'operator')
  set(@Param('name') name: string) {
    return this.forward('GET', `/v1/sets/${encodeURIComponent(name)}`);
  }

  @DocumentedBody(BODIES.flag)
  @Put('flags/:name')
  @HttpCode(202)
  @Roles('agent', 'operator')
  flag(@Param('name') name: string, @ValidBody(BODIES.flag) body: Record<string, unknown>) {
    return this.write({ ...body, op: 'flag', name });
  }

  @Get('flags/:name')
  @Roles('reader', 'agent', 'operator')
  getFlag(@Param('name') name: string) {
    return this.forward('GET', `/v1/flags/${encodeURIComponent(name)}`);
  }
}

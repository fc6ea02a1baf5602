import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/api-keys';
import { BODIES } from '@parley/decision-api-contract';
import { DocumentedBody } from './docs';
import { ValidBody } from './validation';
import { CrdtUpstream } from '../cluster-client/http-upstream';
import { Problem } from './problem';

/**
 * The eventual routes of SPEC.md §3 (counters, sets, flags): forwarded to the local crdt
 * replica, which answers 202 once the delta is on its disk. Its 400s come back as problems.
 */
@ApiTags('eventual')
@ApiBearerAuth()
@Controller('v1')
export class EventualController {
  constructor(private readonly crdt: CrdtUpstream) {}

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
  increment(@Param('name') name: string, @ValidBody(BODIES.increment) body: object) {
    return this.forward('POST', `/v1/counters/${encodeURIComponent(name)}/increment`, body);
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
  add(@Param('name') name: string, @ValidBody(BODIES.element) body: object) {
    return this.forward('POST', `/v1/sets/${encodeURIComponent(name)}/elements`, body);
  }

  @Delete('sets/:name/elements/:element')
  @HttpCode(202)
  @Roles('agent')
  remove(@Param('name') name: string, @Param('element') element: string) {
    return this.forward(
      'DELETE',
      `/v1/sets/${encodeURIComponent(name)}/elements/${encodeURIComponent(element)}`,
    );
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
  flag(@Param('name') name: string, @ValidBody(BODIES.flag) body: object) {
    return this.forward('PUT', `/v1/flags/${encodeURIComponent(name)}`, body);
  }

  @Get('flags/:name')
  @Roles('reader', 'agent', 'operator')
  getFlag(@Param('name') name: string) {
    return this.forward('GET', `/v1/flags/${encodeURIComponent(name)}`);
  }
}

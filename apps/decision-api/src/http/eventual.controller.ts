import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/api-keys';
import { BODIES, fieldsOf } from './body-schemas';
import { CrdtUpstream } from '../cluster-client/http-upstream';
import { Problem } from './problem';

/** Fields each eventual write accepts (from the documented schemas); anything else is refused. */
const BODY_FIELDS = {
  increment: fieldsOf(BODIES.increment),
  add: fieldsOf(BODIES.element),
  flag: fieldsOf(BODIES.flag),
};

function checkBody(kind: keyof typeof BODY_FIELDS, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Problem(400, 'Bad Request', 'the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !BODY_FIELDS[kind].includes(k));
  if (unknown.length > 0)
    throw new Problem(400, 'Bad Request', 'the request is not valid', {
      errors: unknown.map((k) => `${k} is not a field of this request`),
    });
  return body as Record<string, unknown>;
}

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

  @ApiBody({ schema: BODIES.increment })
  @Post('counters/:name/increment')
  @HttpCode(202)
  @Roles('agent')
  increment(@Param('name') name: string, @Body() body: unknown) {
    return this.forward(
      'POST',
      `/v1/counters/${encodeURIComponent(name)}/increment`,
      checkBody('increment', body),
    );
  }

  @Get('counters/:name')
  @Roles('reader', 'agent', 'operator')
  counter(@Param('name') name: string) {
    return this.forward('GET', `/v1/counters/${encodeURIComponent(name)}`);
  }

  @ApiBody({ schema: BODIES.element })
  @Post('sets/:name/elements')
  @HttpCode(202)
  @Roles('agent')
  add(@Param('name') name: string, @Body() body: unknown) {
    return this.forward(
      'POST',
      `/v1/sets/${encodeURIComponent(name)}/elements`,
      checkBody('add', body),
    );
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

  @ApiBody({ schema: BODIES.flag })
  @Put('flags/:name')
  @HttpCode(202)
  @Roles('agent', 'operator')
  flag(@Param('name') name: string, @Body() body: unknown) {
    return this.forward('PUT', `/v1/flags/${encodeURIComponent(name)}`, checkBody('flag', body));
  }

  @Get('flags/:name')
  @Roles('reader', 'agent', 'operator')
  getFlag(@Param('name') name: string) {
    return this.forward('GET', `/v1/flags/${encodeURIComponent(name)}`);
  }
}

import {
  Body,
  CallHandler,
  CanActivate,
  ExecutionContext,
  NestInterceptor,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
  createParamDecorator,
} from '@nestjs/common';
import { EventualController } from '../eventual.controller';
import { StrongController } from '../strong.controller';
import { laneRoutes } from './lane-routes';

class AllowAll implements CanActivate {
  canActivate() {
    return true;
  }
}

class PassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

const UPPER = { transform: (value: unknown) => String(value).toUpperCase() };
const Marker = createParamDecorator((data: string) => `marker ${data}`);

@Controller('v1')
class Sample {
  @Post('marked/:id')
  marked(@Marker('m', UPPER) marker: string, @Param('id', UPPER) id: string) {
    return { marker, id };
  }

  @Put('kv/:key')
  put(
    @Param('key') key: string,
    @Body() body: unknown,
    @Headers('Idempotency-Key') idem: string,
    @Res({ passthrough: true }) res: unknown,
  ) {
    return { key, body, idem, res };
  }

  @Post('things')
  create(@Body('name') name: string) {
    return { name };
  }

  @Post('things/:id/poke')
  @HttpCode(202)
  poke(@Param() params: unknown, @Query() query: unknown) {
    return { params, query };
  }

  @Get('raw')
  raw(@Req() request: unknown) {
    return request;
  }

  @Get('manual')
  manual(@Res() response: unknown) {
    return response;
  }

  @Get('guarded')
  @UseGuards(AllowAll)
  guarded() {
    return {};
  }

  @Get('intercepted')
  @UseInterceptors(PassThrough)
  intercepted() {
    return {};
  }

  @Get('piped/:id')
  piped(@Param('id', ParseIntPipe) id: number) {
    return { id };
  }

  @Get('files/*path')
  wildcard() {
    return {};
  }

  helper() {
    return 'not a route';
  }
}

describe('laneRoutes', () => {
  const routes = laneRoutes([new Sample()]);
  const byName = new Map(routes.map((route) => [route.handler.name, route]));

  it('reads method, path, status and arguments from the same decorators Nest routes by', () => {
    const put = byName.get('put')!;
    expect(put).toMatchObject({
      method: 'PUT',
      path: '/v1/kv/:key',
      paramNames: ['key'],
      status: 200,
      takesBody: true,
      args: [
        { from: 'params', name: 'key' },
        { from: 'body' },
        { from: 'headers', name: 'Idempotency-Key' },
        { from: 'response' },
      ],
    });
    expect(byName.get('create')).toMatchObject({
      method: 'POST',
      status: 201,
      args: [{ from: 'body', name: 'name' }],
    });
    expect(byName.get('poke')).toMatchObject({
      status: 202,
      takesBody: false,
      args: [{ from: 'params' }, { from: 'query' }],
    });
  });

  it('serves custom parameter decorators and keeps the pipes given as instances', () => {
    const { args } = byName.get('marked')!;
    expect(args).toMatchObject([
      { from: 'custom', data: 'm', pipes: [UPPER] },
      { from: 'params', name: 'id', pipes: [UPPER] },
    ]);
    const custom = args[0] as { factory: (data: unknown, context: unknown) => unknown };
    expect(custom.factory('m', {})).toBe('marker m');
  });

  it('matches only the canonical path: no trailing slash, no other case, no extra segment', () => {
    const { pattern } = byName.get('put')!;
    expect(pattern.exec('/v1/kv/a%20b')?.[1]).toBe('a%20b');
    for (const path of ['/v1/kv/a/', '/V1/kv/a', '/v1/kv/a/b', '/v1/kv/', '/v1/kvx/a'])
      expect(pattern.test(path)).toBe(false);
  });

  it('leaves to Express every route using something the lane does not reproduce', () => {
    expect([...byName.keys()].sort()).toEqual(['create', 'marked', 'poke', 'put']);
  });

  it('serves every decision route of the real controllers', () => {
    const real = laneRoutes([
      Object.create(StrongController.prototype) as object,
      Object.create(EventualController.prototype) as object,
    ]);
    const declared = [StrongController, EventualController].flatMap((controller) =>
      Object.getOwnPropertyNames(controller.prototype).filter(
        (name) => Reflect.getMetadata('method', controller.prototype[name as never]) !== undefined,
      ),
    );
    expect(real.map((route) => route.handler.name).sort()).toEqual(declared.sort());
    expect(real.length).toBeGreaterThan(15);
  });
});

import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Param,
  Post,
  Put,
} from '@nestjs/common';
import { CrdtKind, LWWRegister, NAME_PATTERN, ORSet, PNCounter, flagValue } from '@parley/crdt';
import { CrdtService } from './crdt.service';
import { StoreFullError } from './replica-store';

const AMOUNT_ABS_MAX = 1_000_000_000_000;
const ELEMENT_BYTES_MAX = 1_024;

function name(raw: string): string {
  if (!NAME_PATTERN.test(raw))
    throw new BadRequestException(
      'name must be 1-128 characters [A-Za-z0-9_.:-], starting alphanumeric',
    );
  return raw;
}

function element(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || Buffer.byteLength(raw) > ELEMENT_BYTES_MAX)
    throw new BadRequestException('element must be a non-empty string of at most 1 KiB');
  return raw;
}

/**
 * The eventual-decision routes of SPEC.md §3 as this replica serves them (decision-api fronts
 * them): writes answer 202 once the delta is on this replica's disk; reads are local.
 */
@Controller('v1')
export class CrdtController {
  constructor(private readonly crdt: CrdtService) {}

  private async accept(
    kind: CrdtKind,
    objectName: string,
    mutate: Parameters<CrdtService['write']>[2],
  ) {
    try {
      await this.crdt.write(kind, objectName, mutate);
    } catch (error) {
      if (error instanceof StoreFullError)
        throw new HttpException(error.message, HttpStatus.INSUFFICIENT_STORAGE);
      throw error;
    }
    return { accepted: true, name: objectName };
  }

  @Post('counters/:name/increment')
  @HttpCode(202)
  increment(@Param('name') raw: string, @Body() body: { delta?: unknown }) {
    const delta = body?.delta;
    if (
      typeof delta !== 'number' ||
      !Number.isSafeInteger(delta) ||
      Math.abs(delta) > AMOUNT_ABS_MAX
    )
      throw new BadRequestException('delta must be an integer between -1e12 and 1e12');
    const n = name(raw);
    return this.accept('counter', n, (store) => store.increment(n, delta));
  }

  @Get('counters/:name')
  counter(@Param('name') raw: string) {
    const n = name(raw);
    const value = this.crdt.store.get('counter', n) as PNCounter | undefined;
    return { name: n, value: value?.value() ?? 0 };
  }

  @Post('sets/:name/elements')
  @HttpCode(202)
  add(@Param('name') raw: string, @Body() body: { element?: unknown }) {
    const n = name(raw);
    const e = element(body?.element);
    return this.accept('set', n, (store) => store.addElement(n, e));
  }

  @Delete('sets/:name/elements/:element')
  @HttpCode(202)
  remove(@Param('name') raw: string, @Param('element') rawElement: string) {
    const n = name(raw);
    const e = element(rawElement);
    return this.accept('set', n, (store) => store.removeElement(n, e));
  }

  @Get('sets/:name')
  set(@Param('name') raw: string) {
    const n = name(raw);
    const value = this.crdt.store.get('set', n) as ORSet | undefined;
    return { name: n, elements: value?.values() ?? [] };
  }

  @Put('flags/:name')
  @HttpCode(202)
  flag(@Param('name') raw: string, @Body() body: { value?: unknown }) {
    const n = name(raw);
    if (body?.value === undefined) throw new BadRequestException('value is required');
    let value;
    try {
      value = flagValue(body.value);
    } catch {
      throw new BadRequestException('value must be JSON of at most 4 KiB');
    }
    return this.accept('flag', n, (store) => store.setFlag(n, value, Date.now()));
  }

  @Get('flags/:name')
  getFlag(@Param('name') raw: string) {
    const n = name(raw);
    const value = this.crdt.store.get('flag', n) as LWWRegister | undefined;
    return { name: n, value: value?.value ?? null };
  }

  @Get('crdt/status')
  status() {
    return {
      replica: this.crdt.store.replicaId,
      objects: this.crdt.store.size,
      bus: this.crdt.busState(),
      counters: this.crdt.counters,
    };
  }
}

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
  Res,
} from '@nestjs/common';
import {
  CrdtKind,
  LWWRegister,
  ORSet,
  PNCounter,
  checkDelta,
  checkElement,
  checkName,
  flagValue,
  CrdtWrite,
  CrdtWriteAnswer,
  parseCrdtBatch,
  parseCrdtWrites,
} from '@parley/crdt';
import { CrdtService } from './crdt.service';
import { StoreFullError } from './replica-store';

/** A check from @parley/crdt whose refusal is the client's fault: 400 with its message. */
function badRequestUnless<T>(check: (raw: unknown) => T): (raw: unknown) => T {
  return (raw) => {
    try {
      return check(raw);
    } catch (error) {
      throw new BadRequestException((error as Error).message);
    }
  };
}

const name = badRequestUnless(checkName);
const element = badRequestUnless(checkElement);
const amount = badRequestUnless(checkDelta);

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
    const delta = amount(body?.delta);
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

  /**
   * Writes of one source partition's offset range, applied once (see CrdtBatch): 200 applied
   * or already held, 409 overlapping what is held, 400/507 with the index of the refused write.
   */
  @Post('crdt/batches')
  async batch(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: { status(code: number): unknown },
  ) {
    const parsed = parseCrdtBatch(body);
    if (!parsed.ok) {
      reply.status(400);
      return { refused: true, index: parsed.index ?? -1, reason: parsed.reason };
    }
    const answer = await this.crdt.applyBatch(parsed.batch);
    reply.status('overlap' in answer ? 409 : 'refused' in answer ? 507 : 200);
    return answer;
  }

  /**
   * Eventual REST writes that decision-api gathered from concurrent callers: 200 with one answer
   * per write, in order (202 on this disk, 400 invalid, 507 no room), once they are durable;
   * 400 for a body that is not `{ writes: [...] }` of at most CRDT_WRITES_MAX.
   */
  @Post('crdt/writes')
  @HttpCode(200)
  async writes(@Body() body: unknown): Promise<{ answers: CrdtWriteAnswer[] }> {
    const parsed = parseCrdtWrites(body);
    if (!parsed.ok) throw new BadRequestException(parsed.reason);
    const valid = parsed.writes.filter((write): write is CrdtWrite => !('invalid' in write));
    const applied = await this.crdt.applyWrites(valid);
    let next = 0;
    return {
      answers: parsed.writes.map((write) =>
        'invalid' in write ? { status: 400, message: write.invalid } : applied[next++],
      ),
    };
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

import { CRDT_WRITES_MAX, CrdtWrite, CrdtWriteAnswer, LocalCrdtWrites } from '@parley/crdt';
import { ClusterRefused, unavailable } from './outcomes';
import { HttpUpstream } from './http-upstream';
import { RequestBatcher } from './request-batcher';

/** Eventual writes waiting to leave for the crdt replica; beyond it a write is refused (503). */
export const EVENTUAL_WRITES_QUEUED_MAX = 10_000;

export interface EventualWritesOptions {
  /** The most writes one crdt call carries (1: a call per write, as before batching). */
  batchMax: number;
  /** The most crdt calls out at once. */
  inFlightMax: number;
}

/** What a write's caller hears: the replica's answer, or 502 when its answer left it out. */
export type EventualAnswer = CrdtWriteAnswer | { status: 502; message: string };

/**
 * The eventual routes' writes on their way to the crdt replica: the writes of concurrent
 * callers leave together as one POST /v1/crdt/writes (RequestBatcher: what arrives during one
 * event-loop turn, or while `inFlightMax` calls are out), which the replica applies with one log
 * record and one fdatasync, then answers write by write. A lone caller waits only for the end of
 * its own turn; under load the HTTP hop, its JSON and the breaker are paid once per batch
 * instead of once per write. The durability promise is unchanged: a write hears 202 only once
 * the replica has it on disk.
 */
export class EventualWrites {
  private readonly batcher: RequestBatcher<CrdtWrite, EventualAnswer>;

  constructor(
    private readonly crdt: Pick<HttpUpstream, 'call'>,
    options: EventualWritesOptions,
    /** The crdt replica of this process, in a node process: called in-process instead. */
    private readonly local?: LocalCrdtWrites,
  ) {
    this.batcher = new RequestBatcher((writes) => this.send(writes), {
      batchMax: Math.min(options.batchMax, CRDT_WRITES_MAX),
      inFlightMax: options.inFlightMax,
      queuedMax: EVENTUAL_WRITES_QUEUED_MAX,
      overloaded: () => unavailable('too many eventual writes are waiting for crdt', 1),
      missingAnswer: {
        status: 502,
        message: 'the crdt replica left this write out of its answer: its outcome is unknown',
      },
    });
  }

  /** Resolves with the replica's answer to this write; rejects with a ClusterRefused (unavailable: 503) when the replica cannot be reached. */
  submit(write: CrdtWrite): Promise<EventualAnswer> {
    return this.batcher.submit(write);
  }

  private async send(writes: CrdtWrite[]): Promise<EventualAnswer[]> {
    const { status, json } = this.local
      ? await this.sendLocally(writes)
      : await this.crdt.call('POST', '/v1/crdt/writes', { writes });
    const answers = (json as { answers?: unknown } | undefined)?.answers;
    if (status !== 200 || !Array.isArray(answers))
      // Every write was checked here first, so a refused call is the replica's fault (or a
      // version mismatch), not the callers'.
      throw new ClusterRefused({
        kind: 'upstream-refused',
        detail: `the crdt replica answered a batch with ${status}`,
      });
    return answers as EventualAnswer[];
  }

  /** The same call to the replica in this process, answered as its route would answer it. */
  private async sendLocally(writes: CrdtWrite[]): Promise<{ status: number; json: unknown }> {
    try {
      return { status: 200, json: await this.local!.writes({ writes }) };
    } catch (error) {
      const status = (error as { getStatus?: () => number }).getStatus?.() ?? 500;
      return { status, json: undefined };
    }
  }
}

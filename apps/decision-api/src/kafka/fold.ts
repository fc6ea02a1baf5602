import { CrdtWrite, INCREMENT_ABS_MAX } from '@parley/crdt';

/** An eventual record of one partition, validated, in offset order. */
export interface EventualRecord {
  offset: number;
  requestId: string;
  write: CrdtWrite;
}

/** A write standing for one or more records: refused, it dead-letters exactly those. */
export interface FoldedWrite {
  write: CrdtWrite;
  offsets: number[];
}

/**
 * Folds a partition's eventual records into as few crdt writes as their types allow, with the
 * same end state as applying them one by one: increments to one counter add up (a sum stays
 * within INCREMENT_ABS_MAX, else a second write starts); for one set element, and for one
 * flag, the last write wins (an add then a remove leaves the element out, as one by one would).
 * A requestId seen earlier in the same records is the producer sending it again: it adds
 * nothing (its offset is kept with the first one's write).
 */
export function foldEventual(records: readonly EventualRecord[]): FoldedWrite[] {
  const out: FoldedWrite[] = [];
  const openWrite = new Map<string, FoldedWrite>();
  const byRequest = new Map<string, FoldedWrite>();
  for (const record of records) {
    const seen = byRequest.get(record.requestId);
    if (seen) {
      seen.offsets.push(record.offset);
      continue;
    }
    const { write } = record;
    // Writes that may merge share a slot: a counter; a set element (add and remove); a flag.
    const slot =
      write.op === 'increment'
        ? `c\u0000${write.name}`
        : write.op === 'flag'
          ? `f\u0000${write.name}`
          : `s\u0000${write.name}\u0000${write.element}`;
    const open = openWrite.get(slot);
    let into: FoldedWrite;
    if (open && write.op === 'increment' && open.write.op === 'increment') {
      const sum = open.write.delta + write.delta;
      if (Math.abs(sum) <= INCREMENT_ABS_MAX) {
        open.write = { ...open.write, delta: sum };
        into = open;
      } else {
        into = { write, offsets: [] };
        out.push(into);
        openWrite.set(slot, into);
      }
    } else if (open && write.op !== 'increment') {
      open.write = write;
      into = open;
    } else {
      into = { write, offsets: [] };
      out.push(into);
      openWrite.set(slot, into);
    }
    into.offsets.push(record.offset);
    byRequest.set(record.requestId, into);
  }
  return out;
}

/**
 * A partition batch's offset range `from`..`through` cut into consecutive ranges whose records
 * stay within `bytesMax` (their encoded size) and `countMax`, so each crdt batch fits the
 * replica's body limit. The ranges cover `from`..`through` without gaps, in order: the
 * replica's per-partition offset moves forward through them one by one.
 */
export function rangesBySize<T extends { offset: number; bytes: number }>(
  records: readonly T[],
  from: number,
  through: number,
  bytesMax: number,
  countMax: number,
): { from: number; through: number; records: T[] }[] {
  const ranges: { from: number; through: number; records: T[] }[] = [];
  let current: T[] = [];
  let bytes = 0;
  let start = from;
  for (const record of records) {
    if (current.length > 0 && (bytes + record.bytes > bytesMax || current.length >= countMax)) {
      const end = current[current.length - 1].offset;
      ranges.push({ from: start, through: end, records: current });
      start = end + 1;
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += record.bytes;
  }
  if (current.length > 0) ranges.push({ from: start, through, records: current });
  return ranges;
}

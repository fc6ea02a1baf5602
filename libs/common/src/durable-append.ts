import { constants } from 'node:fs';

/**
 * Flags to open a file for appends; `durable` adds O_DSYNC, so each write returns only once its
 * bytes (and what is needed to read them back) are on disk, one system call where a write and an
 * fdatasync take two. Linux and macOS have it; a platform without it cannot write durably, and
 * refusing to start beats acknowledging what is not on disk.
 */
export function appendFlags(durable: boolean, create: 'create' | 'exclusive'): number {
  const flags =
    constants.O_WRONLY |
    constants.O_APPEND |
    constants.O_CREAT |
    (create === 'exclusive' ? constants.O_EXCL : 0);
  if (!durable) return flags;
  if (constants.O_DSYNC === undefined)
    throw new Error('this platform has no O_DSYNC: durable writes are not possible here');
  return flags | constants.O_DSYNC;
}

import { boundedInt } from './env-fields';

/** Settings of every app that writes durably to its own disk (WAL, delta log, outbox). */
export function durableWriteFields() {
  return {
    /**
     * Durable writes of up to 64 KiB are made on the event loop while each takes at most this
     * many microseconds (one slower sends them through the thread pool for a second): two
     * thread wake-ups less per write on a fast disk. 0 always uses the thread pool, for a disk
     * whose durable writes take near a millisecond, where overlapping them with the work pays.
     */
    PARLEY_INLINE_WRITE_MAX_US: boundedInt(1_000, 0, 100_000, 'microseconds'),
  };
}

import { HardState, Ready, Role } from './types';

/**
 * Whether a Ready's messages may leave before the Ready is persisted. A leader may send its
 * appends while its own disk writes them (Raft thesis §10.2.1; etcd's server does the same):
 * the drive loop is sequential, so whatever the followers' acknowledgements commit is applied
 * and answered only in a later Ready, after this one is on disk. Never when the Ready changes
 * term or vote (those must be durable before a message of the new term leaves), and never for
 * a follower or candidate, whose responses promise what is on its disk.
 */
export function maySendBeforePersist(role: Role, rd: Ready, durable: HardState): boolean {
  return (
    role === Role.Leader &&
    (!rd.hardState || (rd.hardState.term === durable.term && rd.hardState.vote === durable.vote))
  );
}

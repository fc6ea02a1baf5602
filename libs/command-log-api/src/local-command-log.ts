/**
 * The command-log API called in-process: a decision-api that runs in one node process with a
 * command-log replica reaches that replica through this, with the same patterns (RPC) and the
 * same request and answer shapes as over the network, but without a signature, a socket or the
 * JSON on the way there. Replicas in other processes are still reached over the network.
 */
export interface LocalCommandLog {
  /**
   * The local replica's answer to `pattern` with `body`, a copy the caller may keep (the answer
   * never shares objects with the replica's state). Rejects for a pattern it does not serve.
   */
  call(pattern: string, body: object): Promise<unknown>;
}

/**
 * The address decision-api's command-log client gives the replica of its own process, beside the
 * `host:port` addresses of the others (it is never a valid host:port).
 */
export const LOCAL_REPLICA = 'local';

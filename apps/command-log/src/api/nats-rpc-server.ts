import { NatsOptions, ServerNats } from '@nestjs/microservices';
import { ANY_REPLICA, commandLogSubject } from '@parley/command-log-api';

type NatsClient = {
  subscribe(
    subject: string,
    options: { queue?: string; callback: (...args: never[]) => unknown },
  ): unknown;
};

/**
 * Nest's NATS server, listening on subjects namespaced by cluster and node instead of the bare
 * patterns: `parley.<cluster>.<node>.<pattern>` reaches this replica (what a client uses once it
 * knows the leader) and `parley.<cluster>._any.<pattern>` (no node id starts with `_`), in one queue group, reaches any one
 * replica (for discovery; followers answer with a leader hint). Two clusters, or two replicas,
 * on one NATS server never see each other's requests.
 */
export class NamespacedNatsServer extends ServerNats {
  constructor(
    options: Required<NatsOptions>['options'],
    private readonly clusterId: string,
    private readonly nodeId: string,
  ) {
    super(options);
  }

  override bindEvents(client: NatsClient): void {
    for (const pattern of this.messageHandlers.keys()) {
      const callback = this.getMessageHandler(pattern).bind(this) as never;
      client.subscribe(commandLogSubject(this.clusterId, this.nodeId, pattern), { callback });
      client.subscribe(commandLogSubject(this.clusterId, ANY_REPLICA, pattern), {
        queue: `parley.${this.clusterId}.command-log`,
        callback,
      });
    }
  }
}

import { baseFields, hostPortList, port, secret, url } from '@parley/config';
import { z } from 'zod';

/** Configuration of a gossip (SWIM) member. */
export const gossipConfigSchema = z.object({
  ...baseFields(8300),
  /** Shared secret that authenticates gossip packets; never logged. */
  PARLEY_CLUSTER_SECRET: secret(),
  /** UDP (probes) and TCP (push-pull) port. */
  PARLEY_GOSSIP_PORT: port(7946),
  /** Members to join through at start, `host:port,...`; none means a cluster of one. */
  PARLEY_GOSSIP_SEEDS: hostPortList(),
  /** `udp` (default) or `nats` (needs PARLEY_NATS_URL). */
  PARLEY_GOSSIP_TRANSPORT: z.enum(['udp', 'nats']).default('udp').describe('udp or nats'),
  PARLEY_NATS_URL: url(['nats', 'tls']),
});

export type GossipConfig = z.output<typeof gossipConfigSchema>;

import {
  baseFields,
  booleanFlag,
  boundedInt,
  checkTls,
  hostPortList,
  peerTlsFields,
  port,
  portsInRange,
  secret,
  url,
} from '@parley/config';
import { z } from 'zod';

/** Configuration of a gossip (SWIM) member. */
export const gossipConfigSchema = z
  .object({
    ...baseFields(8300),
    /**
     * TLS of the push-pull TCP streams (mutual). UDP probes and gossip stay plain datagrams,
     * authenticated by the cluster secret (HMAC), not encrypted.
     */
    ...peerTlsFields(),
    /** Shared secret that authenticates gossip packets; never logged. */
    PARLEY_CLUSTER_SECRET: secret(),
    /** UDP (probes) and TCP (push-pull) port. */
    PARLEY_GOSSIP_PORT: port(7946),
    /**
     * host:port other members use to reach this one; PARLEY_HTTP_HOST:PARLEY_GOSSIP_PORT when
     * unset (set it when listening on 0.0.0.0).
     */
    PARLEY_GOSSIP_ADVERTISE: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/)
      .refine(portsInRange)
      .optional()
      .describe('a host:port'),
    /** Members to join through at start, `host:port,...`; none means a cluster of one. */
    PARLEY_GOSSIP_SEEDS: hostPortList(),
    /** `udp` (default) or `nats` (needs PARLEY_NATS_URL). */
    PARLEY_GOSSIP_TRANSPORT: z.enum(['udp', 'nats']).default('udp').describe('udp or nats'),
    PARLEY_NATS_URL: url(['nats', 'tls']),
    /** Milliseconds per protocol tick; the probe interval is 10 ticks, the gossip interval 2. */
    PARLEY_GOSSIP_TICK_MS: boundedInt(100, 5, 10_000, 'milliseconds'),
    /** What this member is, published in its metadata. */
    PARLEY_GOSSIP_ROLE: z
      .enum(['replica', 'agent', 'api'])
      .default('replica')
      .describe('replica, agent or api'),
    /** Address of this member's apps (e.g. its HTTP API), published in its metadata. */
    PARLEY_GOSSIP_APP_ADDRESS: z.string().max(255).default('').describe('a host:port or empty'),
    /**
     * Suspicion lasts this × max(1, log10 n) probe intervals once confirmed (memberlist's
     * SuspicionMult), up to 6× that unconfirmed. Higher tolerates longer pauses, detects later.
     */
    PARLEY_GOSSIP_SUSPICION_MULT: boundedInt(4, 1, 100, 'multiplier'),
    /** Lifeguard's refinements (local health, dynamic suspicion, buddy rule); on by default. */
    PARLEY_GOSSIP_LIFEGUARD: booleanFlag(true),
  })
  .superRefine((config, context) => {
    checkTls(config, context);
    if (config.PARLEY_GOSSIP_TRANSPORT === 'nats' && !config.PARLEY_NATS_URL)
      context.addIssue({
        code: 'custom',
        path: ['PARLEY_NATS_URL'],
        message: 'PARLEY_NATS_URL is required when PARLEY_GOSSIP_TRANSPORT=nats',
      });
  });

export type GossipConfig = z.output<typeof gossipConfigSchema>;

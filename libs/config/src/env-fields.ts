import { z } from 'zod';

/**
 * Reusable environment fields. Every field documents its unit and what it expects, because the
 * message a user sees on bad input is built from `describe()`.
 */

/** A TCP/UDP port number. */
export const port = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(fallback)
    .describe('an integer port between 1 and 65535');

/** A positive integer with bounds, in the unit the caller names. */
export const boundedInt = (fallback: number, min: number, max: number, unit: string) =>
  z.coerce
    .number()
    .int()
    .min(min)
    .max(max)
    .default(fallback)
    .describe(`an integer number of ${unit} between ${min} and ${max}`);

/** A host name or IP address to bind or dial. */
export const host = (fallback: string) =>
  z
    .string()
    .trim()
    .min(1)
    .regex(/^[A-Za-z0-9.:[\]-]+$/)
    .default(fallback)
    .describe('a host name or IP address');

/** A node identifier: short, printable, usable in file names and metric labels. */
export const nodeId = (fallback: string) =>
  z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
    .default(fallback)
    .describe('a node id of 1-63 characters [a-z0-9_-], starting with a letter or digit');

/** A shared secret; never logged. */
export const secret = () => z.string().min(16).describe('a secret of at least 16 characters');

export const logLevel = () =>
  z
    .enum(['error', 'warn', 'log', 'debug', 'verbose'])
    .default('log')
    .describe('one of error, warn, log, debug, verbose');

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1')
    .describe('true or false');

/**
 * True when every `...:port` in a comma-separated list is 1-65535. The list patterns allow 0 and
 * up to 99999, which node:net and node:dgram reject with a throw when the app dials them.
 */
export const portsInRange = (list: string) =>
  list.split(',').every((item) => {
    const port = Number(item.slice(item.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  });

/** A comma-separated list of host:port pairs, e.g. Kafka bootstrap brokers. */
export const hostPortList = () =>
  z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/)
    .refine(portsInRange)
    .transform((v) => v.split(','))
    .optional()
    .describe('a comma-separated list of host:port');

/** A URL with one of the given schemes. */
export const url = (schemes: readonly string[]) =>
  z
    .string()
    .url()
    .refine((v) => schemes.some((s) => v.startsWith(`${s}://`)))
    .optional()
    .describe(`a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`);

/** `id=host:port` pairs separated by commas: the static peer list of a cluster. */
export const peerList = () =>
  z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,62}=[A-Za-z0-9.-]+:\d{1,5}(,[a-z0-9][a-z0-9_-]{0,62}=[A-Za-z0-9.-]+:\d{1,5})*$/,
    )
    .refine(portsInRange)
    .transform((v) =>
      v.split(',').map((pair) => {
        const [id, address] = pair.split('=');
        const [peerHost, peerPort] = address.split(':');
        return { id, host: peerHost, port: Number(peerPort) };
      }),
    )
    .describe('a comma-separated list of id=host:port');

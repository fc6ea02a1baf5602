import fc from 'fast-check';
import { z } from 'zod';
import { ConfigError, loadConfig } from '@parley/config';
import { commandLogConfigSchema } from '../../../apps/command-log/src/config';
import { crdtConfigSchema } from '../../../apps/crdt/src/config';
import { decisionApiConfigSchema } from '../../../apps/decision-api/src/config';
import { gossipConfigSchema } from '../../../apps/gossip/src/config';
import { FuzzTarget, ensure } from '../harness';
import { TRICKY_STRINGS } from '../mutators';

/**
 * The config loader with each app's schema, on arbitrary environment maps. The contract
 * (DESIGN.md §3): a ConfigError naming every problem, or a config the app can use as is; never
 * another exception, never a secret in the message. "Usable as is" is checked on what the apps
 * dial or bind: every port in a loaded config is 1-65535 (node:net throws on anything else).
 */
const SECRET_MARK = 'zzsecret';
/** Secret-looking names; a `_FILE` setting holds a path (shown in messages), not a secret. */
const SECRET_NAME = /^(?!.*_FILE$).*(SECRET|KEY|PASSWORD|TOKEN)/i;

/** Values that sit on the edges of the fields (numbers, booleans, lists, URLs, ids). */
const EDGE_VALUES = [
  '0',
  '1',
  '-1',
  '10',
  '1000',
  '65535',
  '65536',
  '99999',
  '1e3',
  '0x10',
  ' 42 ',
  '42.5',
  'NaN',
  'Infinity',
  '9007199254740993',
  'true',
  'false',
  'TRUE',
  'yes',
  'json',
  'text',
  'udp',
  'nats',
  'tcp',
  'replica',
  'debug',
  '127.0.0.1',
  'localhost',
  '::1',
  '[::1]',
  '0.0.0.0',
  'node-1',
  'N1',
  '-x',
  'h:1',
  'h:0',
  'h:65535',
  'h:65536',
  'h:99999',
  'a:1,b:2',
  'a:1,,b:2',
  '127.0.0.1:9092,127.0.0.2:9092',
  'n1=127.0.0.1:7001',
  'n1=h:0',
  'n1=h:99999,n2=h:1',
  'n1=127.0.0.1:7001,n2=localhost:7002',
  'nats://127.0.0.1:4222',
  'tls://h:1',
  'http://127.0.0.1:9000',
  'https://s3.example',
  'http://',
  'nats://h:99999',
  'javascript:alert(1)',
  'parley-snapshots',
  'us-east-1',
];

/** Secret-looking names get values carrying a mark, so a leak into a message is visible. */
const secretValue = fc
  .tuple(
    fc.constantFrom('', 'agent:', 'reader:', 'operator:'),
    fc.stringMatching(/^[A-Za-z0-9._~-]{0,24}$/),
    fc.option(fc.stringMatching(/^,(agent|reader|operator):[A-Za-z0-9]{16}$/), { nil: '' }),
  )
  .map(([role, tail, more]) => `${role}${SECRET_MARK}${tail}${more}`);

const plainValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_VALUES) },
  { weight: 1, arbitrary: fc.constantFrom(...TRICKY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Secrets that satisfy the secret fields (16+ characters, or role:key for API keys). */
const VALID_SECRETS = [`${SECRET_MARK}-0123456789abcdef`, `agent:${SECRET_MARK}0123456789abcdef`];

/**
 * Arbitrary environments that often load: a baseline with every required setting (most of the
 * time), then up to a dozen settings, each mostly drawn from the edge values its own field
 * accepts (so the cross-field checks and the loaded config are reached), otherwise anything.
 */
function environment(schema: z.ZodObject): fc.Arbitrary<Record<string, string | undefined>> {
  const fields = schema.shape as Record<string, z.ZodType>;
  const settings = Object.keys(fields);
  const candidates = (key: string) => (SECRET_NAME.test(key) ? VALID_SECRETS : EDGE_VALUES);
  const accepted = new Map(
    settings.map((key) => [key, candidates(key).filter((v) => fields[key].safeParse(v).success)]),
  );
  const baseline: Record<string, string> = {};
  for (const key of settings)
    if (!fields[key].safeParse(undefined).success && accepted.get(key)!.length > 0)
      baseline[key] = accepted.get(key)![0];
  const valueFor = (key: string): fc.Arbitrary<string | undefined> => {
    const anything = SECRET_NAME.test(key) ? secretValue : plainValue;
    const fitting = accepted.get(key) ?? [];
    return fitting.length === 0
      ? anything
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...fitting) },
          { weight: 2, arbitrary: anything },
        );
  };
  const name = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...settings) },
    { weight: 1, arbitrary: fc.stringMatching(/^PARLEY_[A-Z_]{1,12}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'PATH',
        'HOME',
        'PARLEY_APP',
        'parley_http_port',
        ...TRICKY_STRINGS,
      ),
    },
  );
  return fc
    .tuple(fc.boolean(), fc.boolean(), fc.uniqueArray(name, { maxLength: 12 }))
    .chain(([withBaseline, alsoBaseline, keys]) =>
      fc.tuple(...keys.map(valueFor)).map((values) => {
        const env: Record<string, string | undefined> = {};
        const set = (key: string, value: string | undefined) =>
          // defineProperty: a key such as "__proto__" is then an own entry, like in process.env.
          Object.defineProperty(env, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        if (withBaseline || alsoBaseline)
          for (const [key, value] of Object.entries(baseline)) set(key, value);
        keys.forEach((key, i) => set(key, values[i]));
        return env;
      }),
    );
}

const PORT_IN_TEXT = /:(\d+)$/;

/** Every port a loaded config holds, from numbers, host:port strings and peer records. */
function portsOf(name: string, value: unknown): number[] {
  if (typeof value === 'number' && /_PORT$/.test(name)) return [value];
  if (typeof value === 'string' && /(_NODES|_BROKERS|_SEEDS|_PEERS|_ADVERTISE)$/.test(name)) {
    const match = PORT_IN_TEXT.exec(value);
    return match ? [Number(match[1])] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item) => portsOf(name, item));
  if (typeof value === 'object' && value !== null && 'port' in value)
    return [Number((value as { port: unknown }).port)];
  return [];
}

function configTarget(
  app: string,
  schema: z.ZodObject,
): FuzzTarget<Record<string, string | undefined>> {
  return {
    name: `config:${app}`,
    arbitrary: environment(schema),
    execute(env) {
      let config: Record<string, unknown>;
      try {
        config = loadConfig(app, schema, env) as Record<string, unknown>;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        ensure(error.problems.length > 0, 'a ConfigError without problems');
        ensure(
          !error.message.includes(SECRET_MARK),
          'a secret value appears in the configuration error',
        );
        const oddNames = Object.keys(env).some((key) => /[\r\n]/.test(key));
        ensure(
          oddNames || !/[\r\n]/.test(error.message),
          'a configuration error spans several lines',
        );
        return;
      }
      for (const [name, value] of Object.entries(config))
        for (const port of portsOf(name, value))
          ensure(
            Number.isInteger(port) && port >= 1 && port <= 65535,
            `${name} was accepted with port ${port}`,
          );
    },
  };
}

export const configTargets = [
  configTarget('command-log', commandLogConfigSchema),
  configTarget('gossip', gossipConfigSchema),
  configTarget('crdt', crdtConfigSchema),
  configTarget('decision-api', decisionApiConfigSchema),
];

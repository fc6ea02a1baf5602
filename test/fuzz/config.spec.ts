import { ConfigError, loadConfig } from '@parley/config';
import { commandLogConfigSchema } from '../../apps/command-log/src/config';
import { gossipConfigSchema } from '../../apps/gossip/src/config';
import { fuzzTest } from './harness';
import { configTargets } from './targets/config';

const [commandLog, gossip, crdt, decisionApi] = configTargets;

describe('fuzz: config loader with every app schema', () => {
  for (const target of configTargets) fuzzTest(target);

  describe('regressions: a port out of 1-65535 in a host:port setting is a ConfigError', () => {
    // The counterexamples of each target (the list patterns allowed \d{1,5}); before the fix
    // each loaded, and node:net / node:dgram threw when the app dialled the address.
    it.each([
      [
        commandLog,
        {
          PARLEY_CLUSTER_SECRET: 'zzsecret-0123456789abcdef',
          PARLEY_KAFKA_BROKERS: 'h:0',
          PARLEY_RPC_PORT: '1',
          PARLEY_PEER_PORT: '1',
          PARLEY_DATA_DIR: '0',
        },
      ],
      [
        gossip,
        {
          PARLEY_CLUSTER_SECRET: 'zzsecret-0123456789abcdef',
          PARLEY_GOSSIP_ADVERTISE: 'h:0',
          valueOf: '',
        },
      ],
      [
        crdt,
        {
          PARLEY_CLUSTER_SECRET: 'zzsecret-0123456789abcdef',
          PARLEY_HTTP_HOST: '0',
          PARLEY_CRDT_PEERS: 'h:0',
          PARLEY_APP: '',
          PARLEY_CRDT_FSYNC: '0',
        },
      ],
      [
        decisionApi,
        {
          PARLEY_API_KEYS: 'agent:zzsecret0123456789abcdef',
          PATH: '',
          PARLEY_NODE_ID: '0',
          PARLEY_RPC_SECRET: 'zzsecret,reader:A000AAaAAAA0AAaA',
          PARLEY_GOSSIP_NODES: 'h:65536',
        },
      ],
    ] as const)('%# %s counterexample', (target, env) => {
      expect(() => target.execute({ ...env })).not.toThrow();
    });

    const secret = 'a-secret-of-twenty-chars';
    it.each([
      ['PARLEY_PEERS', 'n1=127.0.0.1:99999', 'a comma-separated list of id=host:port'],
      [
        'PARLEY_PEERS',
        'n1=127.0.0.1:7001,n2=127.0.0.1:0',
        'a comma-separated list of id=host:port',
      ],
      [
        'PARLEY_KAFKA_BROKERS',
        '127.0.0.1:9092,127.0.0.1:70000',
        'a comma-separated list of host:port',
      ],
    ])('%s=%s names the setting and what it expects', (name, value, expects) => {
      expect(() =>
        loadConfig('command-log', commandLogConfigSchema, {
          PARLEY_CLUSTER_SECRET: secret,
          [name]: value,
        }),
      ).toThrow(
        new ConfigError('command-log', [
          `${name} must be ${expects} (got ${JSON.stringify(value)})`,
        ]),
      );
    });

    it('still loads the edges of the range', () => {
      const config = loadConfig('command-log', commandLogConfigSchema, {
        PARLEY_CLUSTER_SECRET: secret,
        PARLEY_PEERS: 'n1=127.0.0.1:1,n2=localhost:65535',
        PARLEY_KAFKA_BROKERS: 'k:65535',
      });
      expect(config.PARLEY_PEERS?.map((p) => p.port)).toEqual([1, 65535]);
      expect(config.PARLEY_KAFKA_BROKERS).toEqual(['k:65535']);
      expect(
        loadConfig('gossip', gossipConfigSchema, {
          PARLEY_CLUSTER_SECRET: secret,
          PARLEY_GOSSIP_ADVERTISE: 'g:65535',
        }).PARLEY_GOSSIP_ADVERTISE,
      ).toBe('g:65535');
    });
  });
});

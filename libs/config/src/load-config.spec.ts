import { z } from 'zod';
import { ConfigError } from './config-error';
import { baseFields } from './base-config';
import { hostPortList, peerList, secret } from './env-fields';
import { loadConfig } from './load-config';

const schema = z.object({
  ...baseFields(8080),
  PARLEY_CLUSTER_SECRET: secret(),
  PARLEY_PEERS: peerList().optional(),
  PARLEY_KAFKA_BROKERS: hostPortList(),
});

const goodSecret = 'a-secret-of-twenty-chars';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig('test-app', schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills defaults for a minimal environment', () => {
    const config = loadConfig('test-app', schema, { PARLEY_CLUSTER_SECRET: goodSecret });
    expect(config.PARLEY_HTTP_PORT).toBe(8080);
    expect(config.PARLEY_HTTP_HOST).toBe('127.0.0.1');
    expect(config.PARLEY_PEERS).toBeUndefined();
  });

  it('parses peer and broker lists into structures', () => {
    const config = loadConfig('test-app', schema, {
      PARLEY_CLUSTER_SECRET: goodSecret,
      PARLEY_PEERS: 'n1=127.0.0.1:7001,n2=localhost:7002',
      PARLEY_KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.2:9092',
    });
    expect(config.PARLEY_PEERS).toEqual([
      { id: 'n1', host: '127.0.0.1', port: 7001 },
      { id: 'n2', host: 'localhost', port: 7002 },
    ]);
    expect(config.PARLEY_KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.2:9092']);
  });

  it('names a malformed variable and what it expects, on one line', () => {
    const message = problemsOf({ PARLEY_CLUSTER_SECRET: goodSecret, PARLEY_HTTP_PORT: '70000' });
    expect(message).toBe(
      'test-app: invalid configuration: PARLEY_HTTP_PORT must be an integer port between 1 and 65535 (got "70000")',
    );
    expect(message).not.toContain('\n');
  });

  it('names a missing required variable', () => {
    expect(problemsOf({})).toContain(
      'PARLEY_CLUSTER_SECRET must be a secret of at least 16 characters (it is missing)',
    );
  });

  it('never echoes a secret, even a wrong one', () => {
    const message = problemsOf({ PARLEY_CLUSTER_SECRET: 'short-pw' });
    expect(message).not.toContain('short-pw');
    expect(message).toContain('a value of 8 characters');
  });

  it('refuses an unknown PARLEY_ setting so that typos are not ignored', () => {
    expect(problemsOf({ PARLEY_CLUSTER_SECRET: goodSecret, PARLEY_HTTP_PROT: '1' })).toContain(
      'PARLEY_HTTP_PROT is not a setting of test-app',
    );
  });

  it('reports every problem at once', () => {
    const message = problemsOf({ PARLEY_HTTP_PORT: 'x', PARLEY_PEERS: 'nope' });
    expect(message).toContain('PARLEY_HTTP_PORT');
    expect(message).toContain('PARLEY_PEERS must be a comma-separated list of id=host:port');
    expect(message).toContain('PARLEY_CLUSTER_SECRET');
  });
});

import { ConfigError, loadConfig } from '@parley/config';
import { commandLogConfigSchema, heartbeatTicksOf } from './config';

const BASE = { PARLEY_CLUSTER_SECRET: 'a-cluster-secret-of-32-characters-x' };

describe('command-log heartbeat interval', () => {
  it('is a third of the election timeout when unset (at least one tick)', () => {
    expect(heartbeatTicksOf({ PARLEY_ELECTION_TICKS: 10 })).toBe(3);
    expect(heartbeatTicksOf({ PARLEY_ELECTION_TICKS: 30 })).toBe(10);
    expect(heartbeatTicksOf({ PARLEY_ELECTION_TICKS: 3 })).toBe(1);
    expect(heartbeatTicksOf({ PARLEY_ELECTION_TICKS: 10, PARLEY_HEARTBEAT_TICKS: 1 })).toBe(1);
  });

  it('takes a setting of at most a third of the election timeout', () => {
    const config = loadConfig('command-log', commandLogConfigSchema, {
      ...BASE,
      PARLEY_ELECTION_TICKS: '12',
      PARLEY_HEARTBEAT_TICKS: '4',
    });
    expect(heartbeatTicksOf(config)).toBe(4);
  });

  it('refuses one that would leave fewer than three heartbeats per election timeout', () => {
    expect(() =>
      loadConfig('command-log', commandLogConfigSchema, {
        ...BASE,
        PARLEY_ELECTION_TICKS: '10',
        PARLEY_HEARTBEAT_TICKS: '4',
      }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig('command-log', commandLogConfigSchema, { ...BASE, PARLEY_HEARTBEAT_TICKS: '0' }),
    ).toThrow(/PARLEY_HEARTBEAT_TICKS/);
  });
});

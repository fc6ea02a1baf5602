import { NodePart, nodeEnvironments } from './node-parts';

/** Each app's settings, as its schema would list them (a few of the real ones). */
const SETTINGS: Record<NodePart, ReadonlySet<string>> = {
  'command-log': new Set([
    'PARLEY_NODE_ID',
    'PARLEY_HTTP_PORT',
    'PARLEY_DATA_DIR',
    'PARLEY_CLUSTER_SECRET',
    'PARLEY_PEER_PORT',
  ]),
  crdt: new Set(['PARLEY_NODE_ID', 'PARLEY_HTTP_PORT', 'PARLEY_DATA_DIR', 'PARLEY_CLUSTER_SECRET']),
  gossip: new Set(['PARLEY_NODE_ID', 'PARLEY_HTTP_PORT', 'PARLEY_GOSSIP_PORT']),
  'decision-api': new Set([
    'PARLEY_NODE_ID',
    'PARLEY_HTTP_PORT',
    'PARLEY_DATA_DIR',
    'PARLEY_API_KEYS',
    'PARLEY_CRDT_NODES',
  ]),
};
const split = (env: Record<string, string>) => nodeEnvironments(env, (part) => SETTINGS[part]);

describe('nodeEnvironments', () => {
  it('runs all four apps by default, a replica before the decision-api that calls it', () => {
    const result = split({});
    expect(result.ok && result.parts).toEqual(['command-log', 'crdt', 'gossip', 'decision-api']);
  });

  it('gives a plain setting to every app that has it, and other variables to all', () => {
    const result = split({ PATH: '/bin', PARLEY_NODE_ID: 'n2', PARLEY_CLUSTER_SECRET: 's' });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.envs.get('command-log')).toEqual({
      PATH: '/bin',
      PARLEY_NODE_ID: 'n2',
      PARLEY_CLUSTER_SECRET: 's',
    });
    expect(result.envs.get('gossip')).toEqual({ PATH: '/bin', PARLEY_NODE_ID: 'n2' });
  });

  it('gives PARLEY_HTTP_PORT to decision-api alone, and PARLEY_<APP>__X to that app as PARLEY_X, over a plain one', () => {
    const result = split({
      PARLEY_HTTP_PORT: '8080',
      PARLEY_CRDT__HTTP_PORT: '8082',
      PARLEY_DATA_DIR: '/data',
      PARLEY_COMMAND_LOG__DATA_DIR: '/data/raft',
      PARLEY_CRDT_NODES: '127.0.0.1:8082',
    });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.envs.get('decision-api')).toEqual({
      PARLEY_HTTP_PORT: '8080',
      PARLEY_DATA_DIR: '/data',
      PARLEY_CRDT_NODES: '127.0.0.1:8082',
    });
    expect(result.envs.get('crdt')).toEqual({ PARLEY_HTTP_PORT: '8082', PARLEY_DATA_DIR: '/data' });
    expect(result.envs.get('command-log')).toEqual({ PARLEY_DATA_DIR: '/data/raft' });
    expect(result.envs.get('gossip')).toEqual({});
  });

  it('runs the apps PARLEY_NODE_PARTS names, in start order', () => {
    const result = split({ PARLEY_NODE_PARTS: 'decision-api, command-log', PARLEY_PEER_PORT: '1' });
    expect(result.ok && result.parts).toEqual(['command-log', 'decision-api']);
    expect(result.ok && result.envs.has('crdt')).toBe(false);
  });

  it('refuses, each with its reason, what no app of the node would take', () => {
    const result = split({
      PARLEY_NODE_PARTS: 'command-log,crdt',
      PARLEY_TYPO: 'x',
      PARLEY_HTTP_PORT: '8080',
      PARLEY_GOSSIP__GOSSIP_PORT: '7946',
      PARLEY_CRDT__PEER_PORT: '1',
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        'PARLEY_TYPO is not a setting of any app this node runs (command-log, crdt)',
        "PARLEY_HTTP_PORT is decision-api's port, and this node runs no decision-api: set PARLEY_COMMAND_LOG__HTTP_PORT instead",
        'PARLEY_GOSSIP__GOSSIP_PORT names gossip, which this node does not run',
        'PARLEY_CRDT__PEER_PORT: crdt has no PARLEY_PEER_PORT',
      ],
    });
  });

  it('refuses a PARLEY_NODE_PARTS that names no app or an unknown one', () => {
    for (const setting of ['', 'command-log,raft'])
      expect(split({ PARLEY_NODE_PARTS: setting })).toEqual({
        ok: false,
        problems: [
          `PARLEY_NODE_PARTS must list some of command-log, crdt, gossip, decision-api (got "${setting}")`,
        ],
      });
  });
});

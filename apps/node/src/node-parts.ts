/**
 * Which apps a node process runs, and the settings each gets. A node runs several Parley apps in
 * one process (as an etcd member serves its clients itself): a command-log replica, a crdt
 * replica, a gossip member and decision-api by default. Each app keeps its own settings schema;
 * the node hands each one its share of the environment:
 *
 * - a plain `PARLEY_X` goes to every app whose schema has X (the node id, TLS, the cluster
 *   secret, log level, Kafka and NATS addresses are shared that way);
 * - `PARLEY_<APP>__X` (say `PARLEY_CRDT__HTTP_PORT`) goes to that app only, as `PARLEY_X`, and
 *   wins over a plain `PARLEY_X`;
 * - `PARLEY_HTTP_PORT` is the node's client port: decision-api's only, since two apps cannot
 *   listen on one port; the others take theirs from `PARLEY_<APP>__HTTP_PORT` or their default;
 * - a `PARLEY_` setting no app of the node has is refused, as each app refuses an unknown one.
 *
 * Other variables (PATH, NODE_OPTIONS, ...) go to every app.
 */
export const NODE_PARTS = ['command-log', 'crdt', 'gossip', 'decision-api'] as const;
export type NodePart = (typeof NODE_PARTS)[number];

/** The node's own setting: which apps it runs, comma-separated (all four when unset). */
export const NODE_PARTS_SETTING = 'PARLEY_NODE_PARTS';

const PREFIX_OF: Record<NodePart, string> = {
  'command-log': 'PARLEY_COMMAND_LOG__',
  crdt: 'PARLEY_CRDT__',
  gossip: 'PARLEY_GOSSIP__',
  'decision-api': 'PARLEY_DECISION_API__',
};

/** Settings that name a resource only one app can hold, and the app a plain one goes to. */
const CLIENT_FACING: Record<string, NodePart> = { PARLEY_HTTP_PORT: 'decision-api' };

type Env = Record<string, string | undefined>;

export type NodeEnvironments =
  { ok: true; parts: NodePart[]; envs: Map<NodePart, Env> } | { ok: false; problems: string[] };

/**
 * Splits `env` between the node's apps. `settingsOf(app)` lists the settings app's schema
 * knows. Every problem is reported, one line each, as the apps report their own.
 */
export function nodeEnvironments(
  env: Env,
  settingsOf: (part: NodePart) => ReadonlySet<string>,
): NodeEnvironments {
  const problems: string[] = [];
  const parts = partsOf(env[NODE_PARTS_SETTING], problems);
  const shared: Env = {};
  const plain: [string, string][] = [];
  const prefixed: [NodePart, string, string][] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key === NODE_PARTS_SETTING) continue;
    if (!key.startsWith('PARLEY_')) {
      shared[key] = value;
      continue;
    }
    const part = NODE_PARTS.find((name) => key.startsWith(PREFIX_OF[name]));
    if (part) prefixed.push([part, `PARLEY_${key.slice(PREFIX_OF[part].length)}`, key]);
    else plain.push([key, value]);
  }
  const envs = new Map<NodePart, Env>(parts.map((part) => [part, { ...shared }]));
  for (const [key, value] of plain) {
    const owner = CLIENT_FACING[key];
    const targets = owner
      ? parts.filter((part) => part === owner)
      : parts.filter((part) => settingsOf(part).has(key));
    if (targets.length === 0)
      problems.push(
        owner
          ? `${key} is ${owner}'s port, and this node runs no ${owner}: set ${PREFIX_OF[parts[0] ?? 'command-log']}${key.slice(7)} instead`
          : `${key} is not a setting of any app this node runs (${parts.join(', ')})`,
      );
    for (const part of targets) envs.get(part)![key] = value;
  }
  for (const [part, setting, key] of prefixed) {
    if (!parts.includes(part)) problems.push(`${key} names ${part}, which this node does not run`);
    else if (!settingsOf(part).has(setting)) problems.push(`${key}: ${part} has no ${setting}`);
    else envs.get(part)![setting] = env[key];
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, parts, envs };
}

/** The apps named by PARLEY_NODE_PARTS, in start order (a replica before the API that calls it). */
function partsOf(setting: string | undefined, problems: string[]): NodePart[] {
  if (setting === undefined) return [...NODE_PARTS];
  const named = setting
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = named.filter((name) => !(NODE_PARTS as readonly string[]).includes(name));
  if (unknown.length > 0 || named.length === 0) {
    problems.push(
      `${NODE_PARTS_SETTING} must list some of ${NODE_PARTS.join(', ')} (got "${setting}")`,
    );
    return [];
  }
  return NODE_PARTS.filter((part) => named.includes(part));
}

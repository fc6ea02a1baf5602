#!/usr/bin/env node
// `npm start`: a local Parley cluster on loopback with the embedded defaults (no Kafka, NATS or
// S3 needed). Every app runs as its own process with prefixed logs; data lives under .data/;
// Ctrl-C or SIGTERM stops every child. Options: --nodes N (default 3), --base-port P,
// --data-dir D (default .data), --with-brokers (use the Kafka, NATS and S3 that
// `npm run infra:up` started, read from .infra/env), --tls (HTTPS and mutual TLS on every internal
// hop, with a CA and node certificate made by openssl under <data-dir>/tls), --from-source (run the
// TypeScript sources instead of the compiled dist/), --election-ms MS (the replicas' election timeout),
// --colocated (one process per node: its command-log replica, crdt replica, gossip member and a
// decision-api, which calls its own replica in-process; else every app is its own process and
// one decision-api fronts them all). The nodes are wired together: command-log replicas form one
// Raft cluster, gossip members join through each other, crdt replicas replicate directly. A child that dies unexpectedly is restarted after a pause
// (a supervisor's job: the others carry on, as they would in production); one that keeps dying
// stops the cluster. The PID of every child is kept in <data-dir>/processes.json.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const nodes = Number(option('nodes', '3'));
const basePort = Number(option('base-port', '18000'));
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
  console.error('--nodes must be an integer from 1 to 9');
  process.exit(2);
}

// The cluster secret and API keys are generated once and kept with the data, never printed.
const dataDir = path.resolve(option('data-dir', path.join(root, '.data')));
fs.mkdirSync(dataDir, { recursive: true });
const secretsFile = path.join(dataDir, 'local-secrets.json');
if (!fs.existsSync(secretsFile)) {
  const secrets = {
    clusterSecret: randomBytes(24).toString('hex'),
    operatorKey: randomBytes(24).toString('hex'),
    agentKey: randomBytes(24).toString('hex'),
    readerKey: randomBytes(24).toString('hex'),
  };
  fs.writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
}
const secrets = JSON.parse(fs.readFileSync(secretsFile, 'utf8'));
// One id per data folder: a fresh local cluster must never pass for an older one that shared
// the same Kafka (the mirror resumes after the highest index it finds for its cluster id).
if (!secrets.clusterId) {
  secrets.clusterId = `local-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
}

/** With --with-brokers: the servers `npm run infra:up` started, as each app's settings. */
function brokerSettings() {
  if (!args.includes('--with-brokers')) return { commandLog: {}, crdt: {}, api: {} };
  const envFile = path.join(root, '.infra', 'env');
  if (!fs.existsSync(envFile)) {
    console.error('--with-brokers needs the servers: run `npm run infra:up` first');
    process.exit(2);
  }
  const infra = Object.fromEntries(
    fs
      .readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return {
    commandLog: {
      PARLEY_CLUSTER_ID: secrets.clusterId,
      PARLEY_KAFKA_BROKERS: infra.KAFKA_BROKERS,
      PARLEY_NATS_URL: infra.NATS_URL,
      PARLEY_S3_ENDPOINT: infra.S3_ENDPOINT,
      PARLEY_S3_ACCESS_KEY_ID: infra.S3_ACCESS_KEY_ID,
      PARLEY_S3_SECRET_ACCESS_KEY: infra.S3_SECRET_ACCESS_KEY,
      PARLEY_S3_REGION: infra.S3_REGION,
    },
    crdt: { PARLEY_NATS_URL: infra.NATS_URL, PARLEY_CLUSTER_ID: secrets.clusterId },
    api: { PARLEY_KAFKA_BROKERS: infra.KAFKA_BROKERS },
  };
}
const brokers = brokerSettings();

/**
 * With --tls: every app serves HTTPS and every internal hop is mutual TLS, with a local CA and
 * one node certificate for 127.0.0.1 (made once, kept with the data; not for production).
 */
function tlsSettings() {
  if (!args.includes('--tls')) return { env: {}, ca: undefined };
  const { createCa, createNodeCert } = require('./tls-certs');
  const dir = path.join(dataDir, 'tls');
  const ca = { cert: path.join(dir, 'local-ca.crt'), key: path.join(dir, 'local-ca.key') };
  const node = { cert: path.join(dir, 'local-node.crt'), key: path.join(dir, 'local-node.key') };
  if (!fs.existsSync(node.cert)) {
    const created = createCa(dir, 'local-ca', 365);
    createNodeCert(dir, created, 'local-node', { days: 365 });
  }
  return {
    ca: ca.cert,
    env: {
      PARLEY_TLS_CERT_FILE: node.cert,
      PARLEY_TLS_KEY_FILE: node.key,
      PARLEY_PEER_TLS_CERT_FILE: node.cert,
      PARLEY_PEER_TLS_KEY_FILE: node.key,
      PARLEY_PEER_TLS_CA_FILE: ca.cert,
    },
  };
}
const tls = tlsSettings();
const scheme = tls.ca ? 'https' : 'http';

/**
 * The apps run as a deployment runs them: the compiled output in dist/, built here when it is
 * missing or older than a source file. Compiling every process's TypeScript at start-up
 * (--from-source, through @swc-node/register) costs each process ~100 MiB more memory.
 */
const fromSource = args.includes('--from-source');
function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}
function ensureBuilt() {
  const stamp = path.join(root, 'dist', '.built'); // written by npm run build
  const sources = Math.max(
    newestSourceMs(path.join(root, 'apps')),
    newestSourceMs(path.join(root, 'libs')),
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map(
      (file) => fs.statSync(path.join(root, file)).mtimeMs,
    ),
  );
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= sources) return;
  console.log('building the apps (npm run build) ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const built = require('node:child_process').spawnSync(npm, ['run', '--silent', 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (built.status !== 0) {
    console.error('the build failed; fix it, or run the sources with --from-source');
    process.exit(1);
  }
}
if (!fromSource) ensureBuilt();
const entryArgs = (app) =>
  fromSource
    ? ['-r', '@swc-node/register', path.join(root, 'apps', app, 'src', 'main.ts')]
    : [path.join(root, 'dist', 'apps', app, 'src', 'main.js')];

const children = new Map(); // name -> the running child process
const processesFile = path.join(dataDir, 'processes.json');
const writeProcesses = () =>
  fs.writeFileSync(
    processesFile,
    JSON.stringify(
      Object.fromEntries([...children].map(([name, child]) => [name, child.pid])),
      null,
      2,
    ),
  );
// The pause lets the survivors elect a new leader before a crashed replica comes back.
const RESTART_DELAY_MS = Number(option('restart-delay-ms', '3000'));
const MAX_RESTARTS_PER_MINUTE = 5;
const restarts = new Map(); // name -> recent restart times
const portOf = (app, i) =>
  basePort + { 'command-log': 100, crdt: 200, gossip: 300, 'decision-api': 0 }[app] + i;

/** Runs `app` (or, as `node`, a node process: see apps/node) for node i. */
function start(app, i, env) {
  const name = `${app}-${i}`;
  const child = spawn(process.execPath, entryArgs(app), {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      PARLEY_NODE_ID: `n${i}`,
      PARLEY_HTTP_PORT: String(portOf(app === 'node' ? 'decision-api' : app, i)),
      PARLEY_DATA_DIR: path.join(dataDir, app),
      ...tls.env,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream, out) => {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) out.write(`[${name}] ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    const now = Date.now();
    const recent = (restarts.get(name) ?? []).filter((at) => now - at < 60_000);
    if (recent.length >= MAX_RESTARTS_PER_MINUTE) {
      console.error(`[${name}] exited (${signal ?? code}) again; stopping the cluster`);
      stop();
      return;
    }
    restarts.set(name, [...recent, now]);
    console.error(`[${name}] exited (${signal ?? code}); restarting in ${RESTART_DELAY_MS} ms`);
    setTimeout(() => {
      if (!stopping) start(app, i, env);
    }, RESTART_DELAY_MS);
  });
  children.set(name, child);
  writeProcesses();
}

/**
 * --election-ms: the replicas' election timeout (default 100 ms, 10 ticks of 10 ms). A slower one
 * keeps a cluster's leader steady on a machine too loaded to answer within 100 ms, as etcd's
 * 1,000 ms default does.
 */
const electionMs = option('election-ms', undefined);
const TICK_MS = 10;
if (
  electionMs !== undefined &&
  !(Number.isInteger(Number(electionMs)) && Number(electionMs) >= 3 * TICK_MS)
) {
  console.error(`--election-ms must be an integer of at least ${3 * TICK_MS}`);
  process.exit(2);
}
const electionSettings =
  electionMs === undefined
    ? {}
    : {
        PARLEY_TICK_MS: String(TICK_MS),
        PARLEY_ELECTION_TICKS: String(Math.round(Number(electionMs) / TICK_MS)),
      };

const host = '127.0.0.1';
const ids = Array.from({ length: nodes }, (_, k) => k + 1);
const peerPort = (i) => basePort + 1100 + i;
const rpcPort = (i) => basePort + 1200 + i;
const gossipPort = (i) => basePort + 1300 + i;
const crdtPeerPort = (i) => basePort + 1400 + i;
const colocated = args.includes('--colocated');
/** Each app's settings for node i (as its own process; a node process takes them all). */
function settingsOf(i) {
  const others = ids.filter((j) => j !== i);
  return {
    'command-log': {
      ...electionSettings,
      PARLEY_CLUSTER_SECRET: secrets.clusterSecret,
      PARLEY_PEER_PORT: String(peerPort(i)),
      PARLEY_RPC_PORT: String(rpcPort(i)),
      PARLEY_PEERS: ids.map((j) => `n${j}=${host}:${peerPort(j)}`).join(','),
      ...brokers.commandLog,
    },
    gossip: {
      PARLEY_CLUSTER_SECRET: secrets.clusterSecret,
      PARLEY_GOSSIP_PORT: String(gossipPort(i)),
      PARLEY_GOSSIP_APP_ADDRESS: `${host}:${portOf('command-log', i)}`,
      ...(others.length > 0
        ? { PARLEY_GOSSIP_SEEDS: others.map((j) => `${host}:${gossipPort(j)}`).join(',') }
        : {}),
    },
    crdt: {
      PARLEY_CLUSTER_SECRET: secrets.clusterSecret,
      PARLEY_CRDT_PEER_PORT: String(crdtPeerPort(i)),
      ...(others.length > 0
        ? { PARLEY_CRDT_PEERS: others.map((j) => `${host}:${crdtPeerPort(j)}`).join(',') }
        : {}),
      ...brokers.crdt,
    },
    'decision-api': {
      PARLEY_API_KEYS: `operator:${secrets.operatorKey},agent:${secrets.agentKey},reader:${secrets.readerKey}`,
      PARLEY_RPC_SECRET: secrets.clusterSecret,
      // A node's decision-api reaches its own replica in-process: it lists the others only.
      PARLEY_COMMAND_LOG_NODES: (colocated ? others : ids)
        .map((j) => `${host}:${rpcPort(j)}`)
        .join(','),
      PARLEY_CRDT_NODES: (colocated ? [i] : ids)
        .map((j) => `${host}:${portOf('crdt', j)}`)
        .join(','),
      PARLEY_GOSSIP_NODES: (colocated ? [i] : ids)
        .map((j) => `${host}:${portOf('gossip', j)}`)
        .join(','),
      // Prefer: respond-async (parley --async) queues writes here, durably, while no leader answers.
      PARLEY_OUTBOX_DIR: path.join(dataDir, 'decision-api', colocated ? `n${i}` : '', 'outbox'),
      ...brokers.api,
    },
  };
}

/** One node process's settings: each app's own, its HTTP port named for it (see apps/node). */
function nodeSettings(i) {
  const settings = settingsOf(i);
  return {
    ...settings['command-log'],
    ...settings.gossip,
    ...settings.crdt,
    ...settings['decision-api'],
    PARLEY_COMMAND_LOG__HTTP_PORT: String(portOf('command-log', i)),
    PARLEY_CRDT__HTTP_PORT: String(portOf('crdt', i)),
    PARLEY_GOSSIP__HTTP_PORT: String(portOf('gossip', i)),
    // The same folders as the separate processes use: a data folder runs either way.
    PARLEY_COMMAND_LOG__DATA_DIR: path.join(dataDir, 'command-log'),
    PARLEY_CRDT__DATA_DIR: path.join(dataDir, 'crdt'),
    PARLEY_GOSSIP__DATA_DIR: path.join(dataDir, 'gossip'),
    PARLEY_DECISION_API__DATA_DIR: path.join(dataDir, 'decision-api'),
  };
}

for (const i of ids) {
  if (colocated) {
    start('node', i, nodeSettings(i));
    continue;
  }
  const settings = settingsOf(i);
  start('command-log', i, settings['command-log']);
  start('gossip', i, settings.gossip);
  start('crdt', i, settings.crdt);
}
if (!colocated) start('decision-api', 1, settingsOf(1)['decision-api']);

console.log(
  `Parley local cluster: ${nodes} node(s), data in ${dataDir}` +
    (args.includes('--with-brokers') ? ' (with Kafka, NATS and S3)' : '') +
    (tls.ca ? ' (TLS on every hop)' : '') +
    (colocated ? ' (one process per node)' : ''),
);
console.log(`  dashboard     ${scheme}://127.0.0.1:${portOf('decision-api', 1)}/`);
console.log(`  decision-api  ${scheme}://127.0.0.1:${portOf('decision-api', 1)}/docs`);
for (let i = 1; i <= nodes; i += 1) {
  console.log(
    `  node ${i}: ${colocated ? `decision-api :${portOf('decision-api', i)}  ` : ''}command-log :${portOf('command-log', i)}  crdt :${portOf('crdt', i)}  gossip :${portOf('gossip', i)}`,
  );
}
console.log(`  API keys: ${secretsFile}`);
if (tls.ca)
  console.log(
    `  CA: ${tls.ca} (CLI: NODE_EXTRA_CA_CERTS=${tls.ca} npm run parley -- --url ${scheme}://127.0.0.1:${portOf('decision-api', 1)} status)`,
  );

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) if (child.exitCode === null) child.kill('SIGTERM');
  // Children have a bounded time to exit cleanly, then are killed.
  const deadline = setTimeout(() => {
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
  }, 5000);
  deadline.unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@parley/config';
import { parse } from 'yaml';
import { z } from 'zod';
import { commandLogConfigSchema } from '../../apps/command-log/src/config';
import { crdtConfigSchema } from '../../apps/crdt/src/config';
import { decisionApiConfigSchema } from '../../apps/decision-api/src/config';
import { gossipConfigSchema } from '../../apps/gossip/src/config';

/**
 * No Docker engine runs here, so the compose file is checked against what the apps actually
 * accept: every app on three nodes, health checks, and environments that pass each app's
 * config schema with the addresses pointing at services that exist.
 */
const root = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

const schemas: Record<string, z.ZodObject> = {
  'command-log': commandLogConfigSchema,
  gossip: gossipConfigSchema,
  crdt: crdtConfigSchema,
  'decision-api': decisionApiConfigSchema,
};

/** What an operator would export before `docker compose up`. */
const operatorEnv: Record<string, string> = {
  PARLEY_CLUSTER_SECRET: 'compose-cluster-secret-0123456789',
  PARLEY_API_KEYS: 'operator:compose-operator-key-0123,agent:compose-agent-key-012345',
  PARLEY_S3_ACCESS_KEY_ID: 'parley',
  PARLEY_S3_SECRET_ACCESS_KEY: 'compose-s3-secret-key-0123',
};

/** Resolves `${VAR:?message}` and `${VAR:-default}` the way compose does. */
function interpolate(value: string | number): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::[?-]([^}]*))?\}/g, (_all, name: string) => {
    const resolved = operatorEnv[name];
    if (resolved === undefined)
      throw new Error(`compose needs ${name}, which the test does not set`);
    return resolved;
  });
}

function envOf(service: Service): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.environment ?? {}))
    env[key] = interpolate(value);
  return env;
}

function appServices(app: string): [string, Service][] {
  return Object.entries(services).filter(([, s]) => s.environment?.PARLEY_APP === app);
}

function hostPorts(list: string): { host: string; port: number }[] {
  return list.split(',').map((pair) => {
    const [host, port] = pair.replace(/^[^=]+=/, '').split(':');
    return { host, port: Number(port) };
  });
}

describe('docker-compose.yml', () => {
  it('runs Kafka in KRaft mode, NATS with JetStream and an S3-compatible store', () => {
    expect(services.kafka.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect((services.nats as { command: string[] }).command).toContain('-js');
    expect(services.s3.image).toMatch(/^versity\/versitygw:/);
  });

  /** The version a shell script pins, e.g. `KAFKA_VERSION=3.9.2`. */
  function pinnedIn(script: string, variable: string): string {
    const text = readFileSync(join(root, 'scripts', 'infra', script), 'utf8');
    const match = new RegExp(`^${variable}=(\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`${script} pins no ${variable}`);
    return match[1];
  }

  it('runs the same NATS, Kafka and S3 server versions as the tests', () => {
    expect(services.nats.image).toBe(`nats:${pinnedIn('nats.sh', 'NATS_VERSION')}-alpine`);
    expect(services.kafka.image).toBe(`apache/kafka:${pinnedIn('kafka.sh', 'KAFKA_VERSION')}`);
    expect(services.s3.image).toBe(`versity/versitygw:${pinnedIn('s3.sh', 'VERSITYGW_VERSION')}`);
  });

  it.each(Object.keys(schemas))('runs %s on three nodes', (app) => {
    expect(appServices(app)).toHaveLength(3);
  });

  it('gives every service a health check', () => {
    const withoutHealthCheck = Object.entries(services)
      .filter(([, service]) => (service.healthcheck?.test?.length ?? 0) === 0)
      .map(([name]) => name);
    expect(withoutHealthCheck).toEqual([]);
  });

  it.each(Object.keys(schemas))(
    'gives every %s node an environment its config schema accepts',
    (app) => {
      for (const [name, service] of appServices(app)) {
        const env = envOf(service);
        expect(() => loadConfig(`${app} (${name})`, schemas[app], env)).not.toThrow();
        const config = loadConfig(app, schemas[app], env) as {
          PARLEY_HTTP_PORT: number;
          PARLEY_HTTP_HOST: string;
        };
        // The health check probes the port the app really listens on, on every interface.
        expect(service.healthcheck?.test.join(' ')).toContain(
          `:${config.PARLEY_HTTP_PORT}/health/live`,
        );
        expect(config.PARLEY_HTTP_HOST).toBe('0.0.0.0');
      }
    },
  );

  it('gives every node a distinct node id', () => {
    const ids = Object.values(services)
      .filter((s) => s.environment?.PARLEY_APP !== undefined)
      .map((s) => `${s.environment?.PARLEY_APP}/${s.environment?.PARLEY_NODE_ID}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('points command-log peers at command-log services on their peer port', () => {
    for (const [, service] of appServices('command-log')) {
      const env = envOf(service);
      for (const peer of hostPorts(env.PARLEY_PEERS)) {
        const target = services[peer.host];
        expect(target?.environment?.PARLEY_APP).toBe('command-log');
        expect(Number(target.environment?.PARLEY_PEER_PORT)).toBe(peer.port);
      }
    }
  });

  it('points decision-api at command-log RPC ports, its crdt and gossip, and Kafka', () => {
    for (const [, service] of appServices('decision-api')) {
      const env = envOf(service);
      for (const node of hostPorts(env.PARLEY_COMMAND_LOG_NODES)) {
        expect(Number(services[node.host]?.environment?.PARLEY_RPC_PORT)).toBe(node.port);
      }
      for (const [key, app] of [
        ['PARLEY_CRDT_NODES', 'crdt'],
        ['PARLEY_GOSSIP_NODES', 'gossip'],
      ]) {
        for (const node of hostPorts(env[key]))
          expect(services[node.host]?.environment?.PARLEY_APP).toBe(app);
      }
      expect(env.PARLEY_KAFKA_BROKERS).toBe('kafka:9092');
    }
  });

  it('never writes a secret into the file itself', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    for (const line of text.split('\n')) {
      if (
        /SECRET|API_KEYS|PASSWORD/.test(line) &&
        line.includes(':') &&
        !line.trim().startsWith('#')
      ) {
        expect(line).toMatch(/\$\{[A-Z0-9_]+:\?/);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('builds in one stage and runs production dependencies only, as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('carries what runs outside the compiled code: the dashboard assets (via the build) and the CLI', () => {
    const build = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts.build;
    expect(build).toContain('apps/decision-api/src/dashboard/assets');
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toMatch(/^COPY bin \.\/bin$/m);
  });
});

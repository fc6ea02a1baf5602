import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { killChild } from './kill-child';
import { waitFor } from './wait';

const LOG4J_PROPERTIES = join(
  __dirname,
  '..',
  '..',
  'scripts',
  'infra',
  'kafka',
  'log4j.properties',
);

/**
 * A Kafka broker (KRaft) of the test's own, from the jars scripts/infra/kafka.sh fetched, so a
 * test can stop and restart "Kafka" without touching the shared broker. Stopped only by its PID.
 */
export class KafkaProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly controllerPort: number,
    private readonly dataDir: string,
    /** Extra JVM options for the broker (a benchmark's JIT or GC settings). */
    private readonly jvmOptions: string[] = [],
  ) {}

  /** The one Kafka version the infra scripts pin (scripts/infra/kafka.sh). */
  static version(): string {
    const script = readFileSync(
      join(__dirname, '..', '..', 'scripts', 'infra', 'kafka.sh'),
      'utf8',
    );
    const pinned = /^KAFKA_VERSION=(\S+)$/m.exec(script);
    if (!pinned) throw new Error('scripts/infra/kafka.sh pins no KAFKA_VERSION');
    return pinned[1];
  }

  static libs(): string {
    const cache = process.env.PARLEY_INFRA_CACHE ?? join(homedir(), '.cache', 'parley');
    const libs = join(cache, `kafka-${KafkaProcess.version()}`, 'libs');
    if (!existsSync(join(libs, '.complete')))
      throw new Error('Kafka jars not found: run scripts/infra/up.sh kafka first');
    return libs;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  private properties(): string {
    const path = join(this.dataDir, 'server.properties');
    writeFileSync(
      path,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${join(this.dataDir, 'logs')}`,
        'num.partitions=1',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=2',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=2',
        'group.initial.rebalance.delay.ms=0',
      ].join('\n'),
    );
    return path;
  }

  async start(): Promise<void> {
    const libs = KafkaProcess.libs();
    const properties = this.properties();
    if (!existsSync(join(this.dataDir, 'logs', 'meta.properties'))) {
      mkdirSync(join(this.dataDir, 'logs'), { recursive: true });
      execFileSync(
        'java',
        [
          '-cp',
          `${libs}/*`,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          'q1Sh-9_ISia_zwGINzRvyQ',
          '-c',
          properties,
          '--ignore-formatted',
        ],
        { stdio: 'ignore' },
      );
    }
    this.child = spawn(
      'java',
      [
        '-Xms128m',
        '-Xmx512m',
        // Without a log4j configuration the root logger is at DEBUG, and Kafka's request logger
        // then turns every request and response into JSON (for no appender): the broker's
        // levels are the infra broker's (WARN).
        `-Dlog4j.configuration=file:${LOG4J_PROPERTIES}`,
        ...this.jvmOptions,
        '-cp',
        `${libs}/*`,
        'kafka.Kafka',
        properties,
      ],
      { stdio: 'ignore' },
    );
    const kafka = new Kafka({
      clientId: 'test-probe',
      brokers: [this.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    await waitFor(
      'the test Kafka broker to answer metadata',
      async () => {
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.listTopics();
          return true;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }

  /** The broker's process id while it runs (for CPU readings). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<void> {
    await killChild(this.child);
    this.child = undefined;
  }
}

import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const root = join(__dirname, '..', '..');

/**
 * `npm start -- --with-brokers`: the local cluster on the real Kafka, NATS and S3 servers, an app
 * per process and (`--colocated`) a node per process.
 */
describe.each([[[] as string[]], [['--colocated']]])('npm start -- --with-brokers %j', (layout) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-local-brokers-'));
  const basePort = 14_500 + Math.floor(Math.random() * 400) * 10;
  const api = `http://127.0.0.1:${basePort + 1}`;
  let launcher: ChildProcess | undefined;

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      const exited = new Promise((resolve) => launcher!.once('exit', resolve));
      launcher.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('decides through the cluster and mirrors the decision to Kafka', async () => {
    launcher = spawn(
      process.execPath,
      [
        'scripts/start-local.js',
        '--base-port',
        String(basePort),
        '--data-dir',
        dataDir,
        '--with-brokers',
        ...layout,
      ],
      { cwd: root, env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' },
    );
    await waitFor(
      'decision-api to be ready',
      async () => {
        const response = await fetch(`${api}/health/ready`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    const { agentKey } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as {
      agentKey: string;
    };
    const requestId = `brokers-${randomUUID()}`;
    const put = await fetch(`${api}/v1/kv/with-brokers`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requestId, value: 'mirrored' }),
    });
    expect(put.status).toBe(200);

    const kafka = new Kafka({
      brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: `local-brokers-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'decisions', fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString().includes(requestId)) seen += 1;
      },
    });
    await waitFor('the decision in Kafka', () => (seen > 0 ? true : undefined), {
      timeoutMs: 60_000,
    });
    await consumer.disconnect();
    expect(seen).toBe(1);
  });
});

// Readiness of the Kafka broker: a metadata request through kafkajs answers, within a bound.
const { Kafka, logLevel } = require('kafkajs');

const [broker, timeoutArg] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg || 60000);

async function main() {
  const kafka = new Kafka({
    clientId: 'parley-infra-ready',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  for (let attempt = 1; Date.now() < deadline; attempt += 1) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      await admin.disconnect();
      return;
    } catch {
      await admin.disconnect().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * attempt)));
    }
  }
  throw new Error(`no metadata from ${broker}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);

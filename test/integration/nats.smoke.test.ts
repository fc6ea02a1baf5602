import { randomUUID } from 'node:crypto';
import { connect, JSONCodec, NatsConnection, StringCodec } from 'nats';

/** The real nats-server with JetStream answers the product's client library: nats. */
const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const strings = StringCodec();

describe('NATS server (real, JetStream)', () => {
  jest.setTimeout(30_000);
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: url, name: 'parley-smoke' });
  });
  afterAll(async () => nc.drain());

  it('delivers a published message to a subscriber', async () => {
    const subject = `smoke.${randomUUID()}`;
    const subscription = nc.subscribe(subject, { max: 1 });
    nc.publish(subject, strings.encode('ping'));
    for await (const message of subscription) {
      expect(strings.decode(message.data)).toBe('ping');
    }
  });

  it('answers a request with a reply', async () => {
    const subject = `smoke.rpc.${randomUUID()}`;
    const json = JSONCodec<{ n: number }>();
    const subscription = nc.subscribe(subject, {
      max: 1,
      callback: (_error, message) =>
        message.respond(json.encode({ n: json.decode(message.data).n + 1 })),
    });
    const reply = await nc.request(subject, json.encode({ n: 41 }), { timeout: 5000 });
    expect(json.decode(reply.data)).toEqual({ n: 42 });
    subscription.unsubscribe();
  });

  it('stores and reads back a JetStream KV entry with its revision', async () => {
    const kv = await nc.jetstream().views.kv(`smoke_${randomUUID().replace(/-/g, '')}`);
    const first = await kv.put('flag', strings.encode('on'));
    const second = await kv.put('flag', strings.encode('off'));
    expect(second).toBeGreaterThan(first);
    const entry = await kv.get('flag');
    expect(entry && strings.decode(entry.value)).toBe('off');
    expect(entry?.revision).toBe(second);
    await kv.destroy();
  });
});

import { gossipFaultScenarios } from '../support/gossip-cluster';

jest.setTimeout(120_000);

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** The same faults with gossip carried by the real nats-server. */
describe('gossip: five processes over NATS (real nats-server)', () => {
  gossipFaultScenarios(() => ({ PARLEY_GOSSIP_TRANSPORT: 'nats', PARLEY_NATS_URL: natsUrl }));
});

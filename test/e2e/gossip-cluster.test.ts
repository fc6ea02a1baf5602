import { createSocket } from 'node:dgram';
import { GossipCluster, gossipFaultScenarios } from '../support/gossip-cluster';

jest.setTimeout(120_000);

/** SWIM over UDP (probes, gossip) and TCP (push-pull) between five real processes. */
describe('gossip: five processes over UDP/TCP on loopback', () => {
  gossipFaultScenarios(() => ({}));
});

describe('gossip: bad packets', () => {
  let cluster: GossipCluster;
  afterAll(async () => cluster?.stop());

  it('drops garbage and forged packets, counts them, and keeps running', async () => {
    cluster = await GossipCluster.create(2);
    await cluster.waitFormed();
    const socket = createSocket('udp4');
    const target = cluster.member('g1').gossipPort;
    const packets = [
      Buffer.from('not a gossip packet at all, just some bytes'),
      Buffer.alloc(0),
      Buffer.alloc(2_000, 0xff),
      // Larger than any packet we send (60 KB), near UDP's limit: refused, never buffered.
      Buffer.alloc(64_000, 7),
      Buffer.concat([Buffer.from([1]), Buffer.alloc(8), Buffer.from('forged'), Buffer.alloc(32)]),
    ];
    for (const packet of packets)
      await new Promise((resolve) => socket.send(packet, target, '127.0.0.1', resolve));
    socket.close();
    const url = `http://127.0.0.1:${cluster.member('g1').httpPort}/v1/members`;
    const counters = await (async () => {
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const body = (await (await fetch(url)).json()) as { counters: { packetsRejected: number } };
        if (body.counters.packetsRejected >= packets.length) return body.counters;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the bad packets were never counted');
    })();
    expect(counters.packetsRejected).toBe(packets.length);
    await cluster.waitAllSee('g1', 'alive', 10_000);
  });
});

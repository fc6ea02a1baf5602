import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { NoDelayJsonSocket, signRpc } from '@parley/app-kit';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { firstValueFrom, timeout } from 'rxjs';
import { encodeHello, newNonce } from '../../apps/command-log/src/peer-transport/frame-auth';
import { frame } from '../../apps/command-log/src/peer-transport/frame-splitter';
import { CertFiles, createCa, createNodeCert } from '../../scripts/tls-certs';
import { TEST_API_KEYS, TEST_KEYS } from '../support/api-keys';
import { AppProcess, waitForHttp } from '../support/app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../support/command-log-cluster';
import { CrdtCluster } from '../support/crdt-cluster';
import { GossipCluster } from '../support/gossip-cluster';
import { ClientTls, httpsJson } from '../support/https';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

/**
 * TLS on every hop, with certificates made by openssl for this run: a cluster CA signs one
 * node certificate (127.0.0.1) and the test client's; a second CA signs an intruder's. Every
 * HTTP server is HTTPS (crdt's, gossip's and command-log's also require a client certificate),
 * and every internal hop is mutual TLS under the HMAC: Raft peers, decision-api → command-log
 * RPC, decision-api → crdt and gossip, crdt's delta bus, gossip's push-pull streams.
 */
describe('TLS on every hop (real processes, certificates from openssl)', () => {
  let dir: string;
  let ca: CertFiles;
  let wrongCa: CertFiles;
  let nodeCert: CertFiles;
  let clientCert: CertFiles;
  let intruder: CertFiles;
  let client: ClientTls;
  let commandLog: CommandLogCluster;
  let crdt: CrdtCluster;
  let gossip: GossipCluster;
  let api: AppProcess;
  let apiPort: number;

  const read = (path: string) => readFileSync(path, 'utf8');
  /** The node's TLS settings: HTTPS (optionally requiring client certificates) and peer mTLS. */
  const tlsEnv = (clientCertAuth: boolean): Record<string, string> => ({
    PARLEY_TLS_CERT_FILE: nodeCert.cert,
    PARLEY_TLS_KEY_FILE: nodeCert.key,
    ...(clientCertAuth ? { PARLEY_TLS_CA_FILE: ca.cert, PARLEY_TLS_CLIENT_CERT_AUTH: 'true' } : {}),
    PARLEY_PEER_TLS_CERT_FILE: nodeCert.cert,
    PARLEY_PEER_TLS_KEY_FILE: nodeCert.key,
    PARLEY_PEER_TLS_CA_FILE: ca.cert,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-tls-e2e-'));
    ca = createCa(dir, 'cluster-ca');
    wrongCa = createCa(dir, 'wrong-ca');
    nodeCert = createNodeCert(dir, ca, 'node');
    clientCert = createNodeCert(dir, ca, 'test-client');
    intruder = createNodeCert(dir, wrongCa, 'intruder');
    client = { ca: read(ca.cert), cert: read(clientCert.cert), key: read(clientCert.key) };

    commandLog = await CommandLogCluster.create(3, tlsEnv(true), { tls: client });
    crdt = await CrdtCluster.create(
      2,
      (i, ports) => ({ ...tlsEnv(true), PARLEY_CRDT_PEERS: `127.0.0.1:${ports[1 - i].peerPort}` }),
      client,
    );
    gossip = await GossipCluster.create(
      2,
      { ...tlsEnv(true), PARLEY_GOSSIP_ROLE: 'agent' },
      client,
    );
    await gossip.waitFormed();
    await commandLog.waitForLeader();
    apiPort = await freePort();
    api = AppProcess.start('decision-api', {
      ...tlsEnv(false),
      PARLEY_HTTP_PORT: String(apiPort),
      PARLEY_API_KEYS: TEST_API_KEYS,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: commandLog.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
      PARLEY_GOSSIP_NODES: `127.0.0.1:${gossip.member('g1').httpPort}`,
      PARLEY_LOG_LEVEL: 'warn',
    });
    // The client checks decision-api's certificate against the cluster CA (no client cert).
    await waitForHttp(`https://127.0.0.1:${apiPort}/health/live`, 200, 30_000, { ca: client.ca });
  });

  afterAll(async () => {
    await api?.stop();
    await commandLog?.stop();
    await crdt?.stop();
    await gossip?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, role: keyof typeof TEST_KEYS, body?: unknown) =>
    httpsJson(
      `https://127.0.0.1:${apiPort}${path}`,
      { ca: client.ca },
      {
        method,
        body,
        headers: { authorization: `Bearer ${TEST_KEYS[role]}` },
      },
    );

  it('a strong write and a linearizable read over HTTPS, through mutual TLS to the Raft cluster', async () => {
    const put = await call('PUT', '/v1/kv/colour', 'agent', { requestId: 'tls-1', value: 'teal' });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ key: 'colour', value: 'teal', version: 1 });
    expect(Number(put.headers['x-raft-index'])).toBeGreaterThan(0);
    const read = await call('GET', '/v1/kv/colour?consistency=linearizable', 'reader');
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ key: 'colour', value: 'teal', version: 1 });
    // Every replica applied it: the entry travelled over the TLS peer connections.
    const index = Number(put.headers['x-raft-index']);
    await waitFor('every replica to apply the write', async () => {
      const statuses = await Promise.all(commandLog.replicas.map((r) => commandLog.status(r.id)));
      return statuses.every((s) => s && s.appliedIndex >= index) ? true : undefined;
    });
  });

  it('eventual writes reach crdt over HTTPS and the other replica over the TLS delta bus', async () => {
    const increment = await call('POST', '/v1/counters/tls-hits/increment', 'agent', { delta: 5 });
    expect(increment.status).toBe(202);
    expect((await call('GET', '/v1/counters/tls-hits', 'reader')).json).toMatchObject({ value: 5 });
    await waitFor('c2 to receive the delta', async () => {
      const answer = await crdt.call('c2', 'GET', '/v1/counters/tls-hits');
      return (answer.json as { value: number }).value === 5 ? true : undefined;
    });
  });

  it('the membership view comes from gossip members that joined over TLS streams', async () => {
    const agents = await call('GET', '/v1/agents', 'reader');
    expect(agents.status).toBe(200);
    expect((agents.json as { id: string; status: string }[]).map((m) => m.id).sort()).toEqual([
      'g1',
      'g2',
    ]);
  });

  /**
   * A raw TLS connection with the given identity that sends `greeting` once the handshake is
   * done: `answered` if anything comes back, otherwise how it ended.
   */
  function tlsAttempt(port: number, identity: CertFiles, greeting: Uint8Array | string) {
    return new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: client.ca,
        cert: read(identity.cert),
        key: read(identity.key),
      });
      socket.on('secureConnect', () => socket.write(greeting));
      socket.on('data', () => {
        resolve('answered');
        socket.destroy();
      });
      socket.on('error', (error) => resolve(`refused: ${error.message}`));
      socket.on('close', () => resolve('refused: closed'));
    });
  }

  it('a certificate from another CA is refused on every internal port; ours is answered', async () => {
    const leader = commandLog.replica(await commandLog.waitForLeader());
    const hello = () =>
      frame(encodeHello(CLUSTER_SECRET, { from: 'n9', to: leader.id, clientNonce: newNonce() }));
    const httpGet = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    // A signed status request in Nest's TCP framing: `<length>#<json>`.
    const rpcStatus = () => {
      const json = JSON.stringify({
        pattern: 'command-log.status',
        data: signRpc(CLUSTER_SECRET, 'command-log.status', {}),
        id: 'tls-probe',
      });
      return `${Buffer.byteLength(json)}#${json}`;
    };
    const ports: [string, number, () => Uint8Array | string][] = [
      ['raft peer', leader.peerPort, hello],
      ['command-log microservice', leader.rpcPort, rpcStatus],
      ['command-log HTTPS', leader.httpPort, () => httpGet],
      ['crdt HTTPS', crdt.replica('c1').httpPort, () => httpGet],
      ['gossip HTTPS', gossip.member('g1').httpPort, () => httpGet],
    ];
    for (const [what, port, greeting] of ports) {
      // The cluster secret alone is not enough: without a certificate the CA signed, no answer.
      expect([what, await tlsAttempt(port, intruder, greeting())]).toEqual([
        what,
        expect.stringMatching(/^refused/),
      ]);
      expect([what, await tlsAttempt(port, clientCert, greeting())]).toEqual([what, 'answered']);
    }
    // The delta bus and gossip streams answer nobody, so only the refusal is observable there:
    // the handshake with the wrong CA's certificate fails before a byte is read.
    for (const port of [crdt.replica('c1').peerPort, gossip.member('g1').gossipPort])
      expect(await tlsAttempt(port, intruder, 'x')).toMatch(/^refused/);
    // The refusals are logged; the lines reach the pipe a moment after the handshake fails.
    await waitFor('crdt to log its refusal', () =>
      crdt.replica('c1').process!.stdout.includes('refused a TLS connection from')
        ? true
        : undefined,
    );
    await waitFor('the microservice port to log its refusal', () =>
      /\[Microservice\].*refused a TLS connection/.test(leader.process!.stdout) ? true : undefined,
    );
  });

  it('a replica configured with another CA cannot join; the cluster goes on without it', async () => {
    const n4 = await commandLog.addReplica('n4', {
      PARLEY_PEER_TLS_CERT_FILE: intruder.cert,
      PARLEY_PEER_TLS_KEY_FILE: intruder.key,
      PARLEY_PEER_TLS_CA_FILE: wrongCa.cert,
    });
    await waitForHttp(`https://127.0.0.1:${n4.httpPort}/health/live`, 200, 30_000, client);
    const added = await call('POST', '/v1/cluster/members', 'operator', {
      id: 'n4',
      address: `127.0.0.1:${n4.peerPort}`,
      learner: true,
    });
    expect(added.status).toBe(202);
    const leaderId = await commandLog.waitForLeader();
    const leader = commandLog.replica(leaderId);
    // The leader dials n4 to replicate; each side refuses the other's certificate.
    await waitFor('the leader to fail its TLS handshake with n4', () =>
      /connection to n4 failed/.test(`${leader.process!.stdout}${leader.process!.stderr}`)
        ? true
        : undefined,
    );
    await waitFor('n4 to refuse the leader', () =>
      /refused a TLS connection/.test(`${n4.process!.stdout}${n4.process!.stderr}`)
        ? true
        : undefined,
    );
    const put = await call('PUT', '/v1/kv/after-n4', 'agent', {
      requestId: 'tls-2',
      value: 'still',
    });
    expect(put.status).toBe(200);
    expect((await commandLog.status('n4'))?.appliedIndex).toBe(0);
  });

  it('plaintext clients get nothing from TLS ports', async () => {
    // HTTP to the HTTPS port.
    await expect(fetch(`http://127.0.0.1:${apiPort}/health/live`)).rejects.toThrow();
    // Nest's plain TCP client to the mutual-TLS microservice port.
    const leader = commandLog.replica(await commandLog.waitForLeader());
    const plain = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: leader.rpcPort, socketClass: NoDelayJsonSocket },
    });
    try {
      await expect(
        firstValueFrom(
          plain
            .send('command-log.status', signRpc(CLUSTER_SECRET, 'command-log.status', {}))
            .pipe(timeout(10_000)),
        ),
      ).rejects.toThrow(/Connection closed|ECONNRESET|closed/);
    } finally {
      await plain.close();
    }
    // A raw HELLO in the clear to the Raft peer port: closed, no CHALLENGE.
    const answer = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: leader.peerPort });
      socket.on('connect', () =>
        socket.write(
          frame(
            encodeHello(CLUSTER_SECRET, { from: 'n9', to: leader.id, clientNonce: newNonce() }),
          ),
        ),
      );
      socket.on('data', () => resolve('answered'));
      socket.on('error', () => resolve('closed'));
      socket.on('close', () => resolve('closed'));
    });
    expect(answer).toBe('closed');
  });

  it('a client that trusts another CA refuses decision-api', async () => {
    await expect(
      httpsJson(`https://127.0.0.1:${apiPort}/health/live`, { ca: read(wrongCa.cert) }),
    ).rejects.toThrow(/self-signed|unable to verify|certificate/i);
  });
});

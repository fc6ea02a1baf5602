import { Server, Socket, createConnection, createServer } from 'node:net';
import {
  ConnectionOptions,
  TLSSocket,
  TlsOptions,
  connect as tlsConnect,
  createServer as createTlsServer,
} from 'node:tls';
import type { NestApplicationOptions } from '@nestjs/common';
import type { PemFile } from '@parley/config';

/**
 * A TLS handshake not finished within this many milliseconds is abandoned (Node's own default
 * is two minutes, long enough for a stalled peer to hold a connection slot).
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 5_000;

/** The HTTP TLS settings of baseFields, as the apps' configs hold them. */
export interface HttpTlsConfig {
  PARLEY_TLS_CERT_FILE?: PemFile;
  PARLEY_TLS_KEY_FILE?: PemFile;
  PARLEY_TLS_CA_FILE?: PemFile;
  PARLEY_TLS_CLIENT_CERT_AUTH?: boolean;
}

/** The peer TLS settings of peerTlsFields. */
export interface PeerTlsConfig {
  PARLEY_PEER_TLS_CERT_FILE?: PemFile;
  PARLEY_PEER_TLS_KEY_FILE?: PemFile;
  PARLEY_PEER_TLS_CA_FILE?: PemFile;
}

type NestHttpsOptions = NonNullable<NestApplicationOptions['httpsOptions']>;

/**
 * Options for the HTTPS server, or undefined for plain HTTP. Nest hands them to
 * https.createServer as they are, the TLS fields its own type does not list included.
 */
export function httpsServerOptions(
  config: HttpTlsConfig,
): (NestHttpsOptions & Pick<TlsOptions, 'minVersion' | 'handshakeTimeout'>) | undefined {
  if (!config.PARLEY_TLS_CERT_FILE || !config.PARLEY_TLS_KEY_FILE) return undefined;
  const clientCertAuth = config.PARLEY_TLS_CLIENT_CERT_AUTH === true;
  return {
    cert: config.PARLEY_TLS_CERT_FILE.pem,
    key: config.PARLEY_TLS_KEY_FILE.pem,
    minVersion: 'TLSv1.2',
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    ...(clientCertAuth
      ? { ca: config.PARLEY_TLS_CA_FILE?.pem, requestCert: true, rejectUnauthorized: true }
      : {}),
  };
}

/**
 * Mutual TLS between nodes: both sides present a certificate and both check the other's
 * against the peer CA. Clients also check the server's name against the address they dialled
 * (so a peer certificate needs a SAN for the host or IP others use to reach it).
 */
export interface PeerTls {
  server: TlsOptions;
  client: ConnectionOptions;
  /** Both sides give up on a handshake not finished within this many milliseconds. */
  handshakeTimeoutMs: number;
}

/** The peer TLS options, or undefined for plain TCP (the embedded default). */
export function peerTls(
  config: PeerTlsConfig,
  handshakeTimeoutMs = TLS_HANDSHAKE_TIMEOUT_MS,
): PeerTls | undefined {
  const cert = config.PARLEY_PEER_TLS_CERT_FILE;
  const key = config.PARLEY_PEER_TLS_KEY_FILE;
  const ca = config.PARLEY_PEER_TLS_CA_FILE;
  if (!cert || !key || !ca) return undefined;
  const identity = { cert: cert.pem, key: key.pem, ca: ca.pem, minVersion: 'TLSv1.2' as const };
  return {
    server: {
      ...identity,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: handshakeTimeoutMs,
    },
    client: { ...identity, rejectUnauthorized: true },
    handshakeTimeoutMs,
  };
}

/** The same, reading the three settings through a config getter (Nest's ConfigService). */
export function peerTlsFrom(
  get: (key: keyof PeerTlsConfig) => PemFile | undefined,
): PeerTls | undefined {
  return peerTls({
    PARLEY_PEER_TLS_CERT_FILE: get('PARLEY_PEER_TLS_CERT_FILE'),
    PARLEY_PEER_TLS_KEY_FILE: get('PARLEY_PEER_TLS_KEY_FILE'),
    PARLEY_PEER_TLS_CA_FILE: get('PARLEY_PEER_TLS_CA_FILE'),
  });
}

/**
 * A stream listener: plain TCP, or TLS when `tls` is given. `onSocket` gets a connection once
 * it can carry data (after the handshake for TLS); a refused handshake (wrong CA, no client
 * certificate, plain bytes on a TLS port, too slow) goes to `onRefused` and never reaches it.
 */
export function createStreamServer(
  tls: PeerTls | undefined,
  onSocket: (socket: Socket) => void,
  onRefused: (reason: string, remote: string) => void = () => undefined,
): Server {
  if (!tls) return createServer(onSocket);
  const server = createTlsServer(tls.server, onSocket);
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    // A client that hung up has no address left to report.
    const remote = socket.remoteAddress
      ? `${socket.remoteAddress}:${socket.remotePort}`
      : 'a client that hung up';
    onRefused(error.message, remote);
    socket.destroy();
  });
  return server;
}

/**
 * Dials a stream: plain TCP, or TLS with the peer identity when `tls` is given. `ready` is the
 * event after which the connection carries data ('connect', or 'secureConnect' once the server
 * was verified). Writes made before it are buffered and sent after the handshake. A TLS
 * connection whose handshake has not finished within `tls.handshakeTimeoutMs` is destroyed
 * with an error, so a peer that accepts and then stalls cannot hold the dialler forever.
 */
export function dialStream(
  target: { host: string; port: number },
  tls: PeerTls | undefined,
): { socket: Socket; ready: 'connect' | 'secureConnect' } {
  if (!tls) return { socket: createConnection(target), ready: 'connect' };
  const socket = tlsConnect({ ...tls.client, host: target.host, port: target.port });
  const timer = setTimeout(
    () => socket.destroy(new Error('TLS handshake timed out')),
    tls.handshakeTimeoutMs,
  );
  timer.unref();
  socket.once('secureConnect', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  return { socket, ready: 'secureConnect' };
}

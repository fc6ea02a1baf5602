import { Channel } from '@parley/gossip';
import { Socket as UdpSocket, createSocket } from 'node:dgram';
import { Server, Socket } from 'node:net';
import { PeerTls, createStreamServer, dialStream } from '@parley/app-kit';
import { GossipTransport } from './gossip-transport.port';

/** A UDP datagram bigger than this goes by stream instead (loopback and LAN both carry it). */
export const PACKET_BYTES_MAX = 60_000;
/** A push-pull stream larger than this is refused (20,000 members fit with room to spare). */
export const STREAM_BYTES_MAX = 16 * 1024 * 1024;
const STREAM_TIMEOUT_MS = 5_000;
const STREAMS_IN_FLIGHT_MAX = 64;

/**
 * memberlist's default transport: UDP for probes and gossip, TCP for push-pull. A stream is
 * one connection carrying one length-prefixed message; the member's address is the same
 * host:port for both. Oversized, truncated or slow streams are dropped and counted.
 * With peer TLS the streams are mutual TLS; UDP packets stay datagrams, sealed (HMAC) by the
 * cluster secret but not encrypted (memberlist encrypts them with a symmetric keyring).
 */
export class UdpTcpTransport implements GossipTransport {
  private udp?: UdpSocket;
  private tcp?: Server;
  private streamsInFlight = 0;
  sendFailures = 0;
  refusedStreams = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly tls?: PeerTls,
    private readonly onRefused: (reason: string, remote: string) => void = () => undefined,
  ) {}

  async start(onBytes: (bytes: Uint8Array, fromAddress: string) => void): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: false });
    this.udp = udp;
    udp.on('message', (bytes, info) => onBytes(bytes, `${info.address}:${info.port}`));
    udp.on('error', () => {
      this.sendFailures += 1;
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, this.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.tcp = createStreamServer(
      this.tls,
      (socket) => this.acceptStream(socket, onBytes),
      (reason, remote) => {
        this.refusedStreams += 1;
        this.onRefused(reason, remote);
      },
    );
    await new Promise<void>((resolve, reject) => {
      this.tcp!.once('error', reject);
      this.tcp!.listen(this.port, this.host, () => resolve());
    });
  }

  send(to: string, channel: Channel, bytes: Uint8Array): void {
    const target = parseAddress(to);
    if (!target) {
      this.sendFailures += 1;
      return;
    }
    if (channel === 'packet' && bytes.length <= PACKET_BYTES_MAX) {
      this.udp?.send(bytes, target.port, target.host, (error) => {
        if (error) this.sendFailures += 1;
      });
      return;
    }
    this.sendStream(target, bytes);
  }

  private sendStream(target: { host: string; port: number }, bytes: Uint8Array): void {
    if (this.streamsInFlight >= STREAMS_IN_FLIGHT_MAX || bytes.length > STREAM_BYTES_MAX) {
      this.sendFailures += 1;
      return;
    }
    this.streamsInFlight += 1;
    const { socket } = dialStream(target, this.tls);
    socket.setTimeout(STREAM_TIMEOUT_MS);
    const done = () => {
      this.streamsInFlight -= 1;
    };
    socket.once('close', done);
    socket.on('error', () => {
      this.sendFailures += 1;
    });
    socket.on('timeout', () => socket.destroy());
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    socket.end(Buffer.concat([length, bytes]));
  }

  private acceptStream(socket: Socket, onBytes: (bytes: Uint8Array, from: string) => void): void {
    const chunks: Buffer[] = [];
    let received = 0;
    let expected = -1;
    socket.setTimeout(STREAM_TIMEOUT_MS);
    socket.on('timeout', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      received += chunk.length;
      chunks.push(chunk);
      if (expected < 0 && received >= 4) {
        expected = Buffer.concat(chunks).readUInt32BE(0);
        if (expected > STREAM_BYTES_MAX) {
          this.refusedStreams += 1;
          socket.destroy();
        }
      }
      if (received > STREAM_BYTES_MAX + 4) socket.destroy();
    });
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      if (expected >= 0 && all.length === expected + 4)
        onBytes(all.subarray(4), `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`);
      else this.refusedStreams += 1;
      socket.end();
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }
}

export function parseAddress(address: string): { host: string; port: number } | undefined {
  const at = address.lastIndexOf(':');
  if (at <= 0) return undefined;
  const port = Number(address.slice(at + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: address.slice(0, at), port };
}

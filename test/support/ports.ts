import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * A free loopback port for a test process to listen on, TCP and UDP both. Drawn at random
 * from 20000-31999, below Linux's ephemeral range (32768+): a port the kernel hands out for
 * port 0 is also one it may give any outgoing connection a moment later, and a replica that
 * then fails to bind it never joins its cluster. Ports handed out once are not handed out
 * again by this process. Bounded attempts.
 */
const RANGE_START = 20_000;
const RANGE_SIZE = 12_000;
const handedOut = new Set<number>();

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.unref();
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const port = RANGE_START + Math.floor(Math.random() * RANGE_SIZE);
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found in 500 attempts');
}

/**
 * The machine's floors: what any design on this machine pays at least. An fsync'd 4 KiB append
 * (every durable write), a loopback TCP round trip (every peer message), an HTTP keep-alive
 * round trip (every REST call), and the encode+decode cost of a typical command.
 */
import { percentile } from '@parley/common';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { AddressInfo, createServer, connect } from 'node:net';
import { join } from 'node:path';
import { decodeCommand, encodeCommand } from '../../../libs/decision/src';
import { EntryType, MessageType, message } from '../../../libs/raft/src';
import {
  decodeMessage,
  encodeMessage,
} from '../../../apps/command-log/src/peer-transport/message-codec';
import { httpLoad } from './http-load';

export interface LatencyFigure {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

function latencyFigure(samplesMs: number[]): LatencyFigure {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 0.5) ?? NaN,
    p99Ms: percentile(sorted, 0.99) ?? NaN,
    meanMs: sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length),
  };
}

/** fdatasync after each 4 KiB append to a file on the disk that holds the data dirs. */
export function fsyncFloor(parentDir: string, appends = 1_000): LatencyFigure {
  const dir = mkdtempSync(join(parentDir, 'parley-fsync-'));
  const fd = openSync(join(dir, 'floor.log'), 'a');
  const block = Buffer.alloc(4096, 7);
  const samples: number[] = [];
  try {
    for (let i = 0; i < appends; i += 1) {
      const started = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      samples.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return latencyFigure(samples);
}

/** A 64-byte ping-pong over one loopback TCP connection (Nagle off, like our peer transport). */
export async function tcpRoundTripFloor(roundTrips = 10_000): Promise<LatencyFigure> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const ping = Buffer.alloc(64, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < roundTrips; i += 1) {
      const started = performance.now();
      await new Promise<void>((resolve) => {
        let received = 0;
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received >= ping.length) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
        socket.write(ping);
      });
      samples.push(performance.now() - started);
    }
  } finally {
    socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
  return latencyFigure(samples);
}

/** One client, keep-alive, against a Node HTTP server that answers 200 at once. */
export async function httpRoundTripFloor(requests = 5_000): Promise<LatencyFigure> {
  const server = createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const result = await httpLoad({
      url: `http://127.0.0.1:${port}/`,
      clients: 1,
      requests,
      seconds: 30,
      request: () => ({ method: 'PUT', path: '/floor', body: '{"value":"x"}' }),
    });
    return { samples: result.ok, p50Ms: result.p50Ms, p99Ms: result.p99Ms, meanMs: NaN };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

export interface CodecFigure {
  commandOpsPerSecond: number;
  peerMessageOpsPerSecond: number;
  commandBytes: number;
  peerMessageBytes: number;
}

/**
 * Encode+decode per second of a kv.put with a 100-byte value (the log entry), and of the
 * append message that carries it to a follower (the peer frame).
 */
export function codecFloor(iterations = 100_000): CodecFigure {
  const command = {
    type: 'kv.put' as const,
    requestId: 'bench-0000000001',
    key: 'bench-key-0001',
    value: 'x'.repeat(100),
    ts: 1_764_000_000_000,
  };
  let bytes = encodeCommand(command as never);
  let started = performance.now();
  for (let i = 0; i < iterations; i += 1) {
    bytes = encodeCommand(command as never);
    const decoded = decodeCommand(bytes);
    if (!decoded.ok) throw new Error(decoded.error);
  }
  const commandSeconds = (performance.now() - started) / 1000;
  const append = message({
    type: MessageType.App,
    to: 'n2',
    from: 'n1',
    term: 3,
    logTerm: 3,
    index: 41,
    commit: 41,
    entries: [{ term: 3, index: 42, type: EntryType.Normal, data: bytes }],
  });
  let frame = encodeMessage(append);
  started = performance.now();
  for (let i = 0; i < iterations; i += 1) {
    frame = encodeMessage(append);
    const decoded = decodeMessage(frame);
    if (!decoded.ok) throw new Error(decoded.error);
  }
  const peerSeconds = (performance.now() - started) / 1000;
  return {
    commandOpsPerSecond: iterations / commandSeconds,
    peerMessageOpsPerSecond: iterations / peerSeconds,
    commandBytes: bytes.length,
    peerMessageBytes: frame.length,
  };
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ByteReader, ByteWriter, DecodeError } from '@parley/common';

/**
 * Peer authentication. A connection opens with HELLO (client nonce) and CHALLENGE (server
 * nonce, proving the server knows the cluster secret); both sides then derive a session key
 * from the secret and both nonces. Every DATA frame carries a sequence number and an
 * HMAC-SHA256 under the session key, and sequence numbers must increase by exactly one:
 * a frame replayed within a connection, or from an earlier connection, fails the check.
 */
export const PROTOCOL_VERSION = 1;
const NONCE_BYTES = 32;
const MAC_BYTES = 32;

export enum FrameKind {
  Hello = 1,
  Challenge = 2,
  Data = 3,
}

function hmac(key: Uint8Array | string, ...parts: (Uint8Array | string)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    mac.update(
      Buffer.from([
        bytes.length >>> 24,
        (bytes.length >>> 16) & 255,
        (bytes.length >>> 8) & 255,
        bytes.length & 255,
      ]),
    );
    mac.update(bytes);
  }
  return mac.digest();
}

function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Hello {
  from: string;
  to: string;
  clientNonce: Uint8Array;
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function encodeHello(secret: string, hello: Hello): Uint8Array {
  const mac = hmac(secret, 'hello', hello.from, hello.to, hello.clientNonce);
  return new ByteWriter()
    .u8(FrameKind.Hello)
    .u8(PROTOCOL_VERSION)
    .string(hello.from)
    .string(hello.to)
    .bytes(hello.clientNonce)
    .bytes(mac)
    .finish();
}

export function decodeHello(secret: string, body: Uint8Array): Hello | { error: string } {
  try {
    const r = new ByteReader(body);
    if (r.u8('kind') !== FrameKind.Hello) return { error: 'expected HELLO' };
    const version = r.u8('version');
    if (version !== PROTOCOL_VERSION)
      return { error: `unsupported peer protocol version ${version}` };
    const from = r.string('from', 64);
    const to = r.string('to', 64);
    const clientNonce = r.bytes('nonce', NONCE_BYTES);
    const mac = r.bytes('mac', MAC_BYTES);
    r.end('hello');
    if (clientNonce.length !== NONCE_BYTES) return { error: 'bad nonce length' };
    if (!macEquals(mac, hmac(secret, 'hello', from, to, clientNonce)))
      return { error: 'HELLO failed authentication' };
    return { from, to, clientNonce };
  } catch (error) {
    if (error instanceof DecodeError) return { error: error.message };
    throw error;
  }
}

export function encodeChallenge(secret: string, hello: Hello, serverNonce: Uint8Array): Uint8Array {
  const mac = hmac(secret, 'challenge', hello.from, hello.to, hello.clientNonce, serverNonce);
  return new ByteWriter().u8(FrameKind.Challenge).bytes(serverNonce).bytes(mac).finish();
}

export function decodeChallenge(
  secret: string,
  hello: Hello,
  body: Uint8Array,
): Uint8Array | { error: string } {
  try {
    const r = new ByteReader(body);
    if (r.u8('kind') !== FrameKind.Challenge) return { error: 'expected CHALLENGE' };
    const serverNonce = r.bytes('nonce', NONCE_BYTES);
    const mac = r.bytes('mac', MAC_BYTES);
    r.end('challenge');
    if (serverNonce.length !== NONCE_BYTES) return { error: 'bad nonce length' };
    if (
      !macEquals(
        mac,
        hmac(secret, 'challenge', hello.from, hello.to, hello.clientNonce, serverNonce),
      )
    ) {
      return { error: 'CHALLENGE failed authentication' };
    }
    return serverNonce;
  } catch (error) {
    if (error instanceof DecodeError) return { error: error.message };
    throw error;
  }
}

export function sessionKey(secret: string, hello: Hello, serverNonce: Uint8Array): Buffer {
  return hmac(secret, 'session', hello.from, hello.to, hello.clientNonce, serverNonce);
}

export function encodeData(key: Uint8Array, sequence: number, payload: Uint8Array): Uint8Array {
  const seq = new ByteWriter().u53(sequence).finish();
  const mac = hmac(key, 'data', seq, payload);
  return new ByteWriter(payload.length + 64)
    .u8(FrameKind.Data)
    .u53(sequence)
    .bytes(payload)
    .bytes(mac)
    .finish();
}

/** Verifies a DATA frame; `expectedSequence` rejects replays and reordering. */
export function decodeData(
  key: Uint8Array,
  expectedSequence: number,
  body: Uint8Array,
  payloadBytesMax: number,
): Uint8Array | { error: string } {
  try {
    const r = new ByteReader(body);
    if (r.u8('kind') !== FrameKind.Data) return { error: 'expected DATA' };
    const sequence = r.u53('sequence');
    const payload = r.bytes('payload', payloadBytesMax);
    const mac = r.bytes('mac', MAC_BYTES);
    r.end('data frame');
    const seq = new ByteWriter().u53(sequence).finish();
    if (!macEquals(mac, hmac(key, 'data', seq, payload)))
      return { error: 'DATA frame failed authentication' };
    if (sequence !== expectedSequence)
      return { error: `replayed or out-of-order frame ${sequence}, expected ${expectedSequence}` };
    return payload;
  } catch (error) {
    if (error instanceof DecodeError) return { error: error.message };
    throw error;
  }
}

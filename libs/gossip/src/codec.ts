import { ByteReader, ByteWriter, DecodeError } from '@parley/common';
import { GossipMessage, MemberMeta, MemberSnapshot, MemberState, Update } from './types';

/**
 * The binary wire format of gossip messages (inside an authenticated packet). Every field is
 * bounded and validated on the way in; a malformed message is an error value, never a throw
 * out of here and never a half-built object.
 */
export const GOSSIP_CODEC_VERSION = 1;
const ID_BYTES_MAX = 64;
const ADDRESS_BYTES_MAX = 256;
const VERSION_BYTES_MAX = 64;
export const UPDATES_PER_MESSAGE_MAX = 64;
export const MEMBERS_PER_PUSH_PULL_MAX = 20_000;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

const MESSAGE_TYPES = ['ping', 'ping-req', 'ack', 'nack', 'gossip', 'push-pull'] as const;
const UPDATE_KINDS = ['alive', 'suspect', 'dead'] as const;
const STATES = [MemberState.Alive, MemberState.Suspect, MemberState.Dead, MemberState.Left];
const ROLES: MemberMeta['role'][] = ['replica', 'agent', 'api'];

function code<T>(table: readonly T[], value: T): number {
  const at = table.indexOf(value);
  if (at < 0) throw new RangeError(`cannot encode ${String(value)}`);
  return at + 1;
}

function lookup<T>(table: readonly T[], byte: number, what: string): T {
  const value = table[byte - 1];
  if (value === undefined) throw new DecodeError(`unknown ${what} ${byte}`);
  return value;
}

function readId(reader: ByteReader, what: string): string {
  const id = reader.string(what, ID_BYTES_MAX);
  if (!ID_PATTERN.test(id)) throw new DecodeError(`${what} is not a valid member id`);
  return id;
}

function writeMeta(out: ByteWriter, meta: MemberMeta): void {
  out.u8(code(ROLES, meta.role)).string(meta.appAddress).string(meta.version);
}

function readMeta(reader: ByteReader): MemberMeta {
  return {
    role: lookup(ROLES, reader.u8('role'), 'role'),
    appAddress: reader.string('app address', ADDRESS_BYTES_MAX),
    version: reader.string('version', VERSION_BYTES_MAX),
  };
}

function writeUpdates(out: ByteWriter, updates: readonly Update[]): void {
  if (updates.length > UPDATES_PER_MESSAGE_MAX) throw new RangeError('too many updates');
  out.u8(updates.length);
  for (const u of updates) {
    out.u8(code(UPDATE_KINDS, u.kind)).string(u.id).u53(u.incarnation);
    if (u.kind === 'alive') writeMeta(out.string(u.address), u.meta);
    else out.string(u.from);
  }
}

function readUpdates(reader: ByteReader): Update[] {
  const count = reader.u8('update count');
  if (count > UPDATES_PER_MESSAGE_MAX) throw new DecodeError(`${count} updates exceed the bound`);
  const updates: Update[] = [];
  for (let i = 0; i < count; i += 1) {
    const kind = lookup(UPDATE_KINDS, reader.u8('update kind'), 'update kind');
    const id = readId(reader, 'member id');
    const incarnation = reader.u53('incarnation');
    if (kind === 'alive') {
      const address = reader.string('address', ADDRESS_BYTES_MAX);
      updates.push({ kind, id, incarnation, address, meta: readMeta(reader) });
    } else {
      updates.push({ kind, id, incarnation, from: readId(reader, 'accuser id') });
    }
  }
  return updates;
}

export function encodeGossipMessage(message: GossipMessage): Uint8Array {
  const out = new ByteWriter(256);
  out.u8(GOSSIP_CODEC_VERSION).u8(code(MESSAGE_TYPES, message.type)).string(message.from);
  switch (message.type) {
    case 'ping':
    case 'ping-req':
      out.u53(message.seq).string(message.target);
      writeUpdates(out, message.updates);
      break;
    case 'ack':
      writeUpdates(out.u53(message.seq), message.updates);
      break;
    case 'nack':
      out.u53(message.seq);
      break;
    case 'gossip':
      writeUpdates(out, message.updates);
      break;
    case 'push-pull':
      out.u8(message.reply ? 1 : 0).u32(message.members.length);
      for (const m of message.members) {
        out.string(m.id).string(m.address).u53(m.incarnation).u8(code(STATES, m.state));
        writeMeta(out, m.meta);
      }
      break;
  }
  return out.finish();
}

export function decodeGossipMessage(
  bytes: Uint8Array,
): { ok: true; message: GossipMessage } | { ok: false; error: string } {
  try {
    const reader = new ByteReader(bytes);
    const version = reader.u8('version');
    if (version !== GOSSIP_CODEC_VERSION)
      throw new DecodeError(`unsupported gossip codec version ${version}`);
    const type = lookup(MESSAGE_TYPES, reader.u8('message type'), 'message type');
    const from = readId(reader, 'sender id');
    let message: GossipMessage;
    switch (type) {
      case 'ping':
      case 'ping-req': {
        const seq = reader.u53('seq');
        const target = readId(reader, 'target id');
        message = { type, seq, from, target, updates: readUpdates(reader) };
        break;
      }
      case 'ack': {
        const seq = reader.u53('seq');
        message = { type, seq, from, updates: readUpdates(reader) };
        break;
      }
      case 'nack':
        message = { type, seq: reader.u53('seq'), from };
        break;
      case 'gossip':
        message = { type, from, updates: readUpdates(reader) };
        break;
      case 'push-pull': {
        const reply = reader.u8('reply flag');
        if (reply > 1) throw new DecodeError('reply flag must be 0 or 1');
        const count = reader.u32('member count');
        if (count > MEMBERS_PER_PUSH_PULL_MAX)
          throw new DecodeError(`${count} members exceed the bound`);
        const members: MemberSnapshot[] = [];
        for (let i = 0; i < count; i += 1) {
          const id = readId(reader, 'member id');
          const address = reader.string('address', ADDRESS_BYTES_MAX);
          const incarnation = reader.u53('incarnation');
          const state = lookup(STATES, reader.u8('state'), 'state');
          members.push({ id, address, incarnation, state, meta: readMeta(reader) });
        }
        message = { type, from, reply: reply === 1, members };
        break;
      }
    }
    reader.end('gossip message');
    return { ok: true, message };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

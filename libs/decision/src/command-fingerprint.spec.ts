import fc from 'fast-check';
import { decodeBinaryCommand, encodeBinaryCommand } from './binary-command';
import { canonical } from './canonical';
import { decodeCommand, encodeCommand } from './codec';
import { commandFingerprint } from './command-fingerprint';
import { COMMAND_FIELDS, Command } from './commands';
import { fingerprintLanes } from './fnv';

/** Any UTF-16 text: quotes, backslashes, control characters, lone and paired surrogates. */
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\ud800', '\udfff', 'é', '😀'),
    maxLength: 6,
  }),
);
const integer = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer(), fc.double());

const INTEGER_FIELDS = new Set([
  'ts',
  'ifVersion',
  'quantity',
  'limit',
  'amount',
  'weight',
  'index',
]);

/**
 * Commands of every type with any value in each field (present, left out, or undefined), not
 * only valid ones: the fingerprint and the binary form must be exact for whatever they get.
 */
const anyCommand: fc.Arbitrary<Command> = fc
  .constantFrom(...COMMAND_FIELDS.keys())
  .chain((type) => {
    const fields = COMMAND_FIELDS.get(type)!.filter((name) => name !== 'type');
    const anything = fc.oneof(
      text,
      integer,
      fc.constant(undefined),
      fc.array(text, { maxLength: 3 }),
      fc.dictionary(text, fc.oneof(text, integer), { maxKeys: 3 }),
    );
    // Mostly the kind of value the field holds, so that many commands take the binary path.
    const valueOf = (name: string) =>
      fc.oneof(
        { weight: 12, arbitrary: INTEGER_FIELDS.has(name) ? fc.nat() : text },
        { weight: 1, arbitrary: anything },
      );
    return fc
      .record(Object.fromEntries(fields.map((name) => [name, valueOf(name)])), {
        requiredKeys: [],
      })
      .map((fieldValues) => ({ type, ...fieldValues }) as unknown as Command);
  });

describe('commandFingerprint', () => {
  it('is fingerprintLanes of the canonical text, for any command of any type', () => {
    fc.assert(
      fc.property(anyCommand, (command) => {
        expect(commandFingerprint(command)).toEqual(fingerprintLanes(canonical(command)));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives a type it has no layout for the generic fingerprint', () => {
    const command = { type: 'not.a.type', requestId: 'r', ts: 1 } as unknown as Command;
    expect(commandFingerprint(command)).toEqual(fingerprintLanes(canonical(command)));
  });
});

describe('the binary command form', () => {
  it('round-trips every command it takes, with its fingerprint; the rest goes as JSON', () => {
    let binary = 0;
    fc.assert(
      fc.property(anyCommand, (command) => {
        const bytes = encodeBinaryCommand(command);
        const viaCodec = encodeCommand(command);
        if (bytes === undefined) {
          // Not carried exactly in binary: JSON (format 1), as before the binary form existed.
          expect(viaCodec[0]).toBe(1);
          return;
        }
        binary += 1;
        expect(viaCodec).toEqual(bytes);
        const decoded = decodeBinaryCommand(bytes);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        const expected = JSON.parse(JSON.stringify(command)) as Record<string, unknown>;
        expect(decoded.raw).toEqual(expected);
        if ('requestId' in decoded.raw)
          expect(decoded.print).toEqual(fingerprintLanes(canonical(command)));
        else expect(decoded.print).toBeUndefined();
      }),
      { numRuns: 5000 },
    );
    // The generator must reach the binary path, or this test proves nothing about it.
    expect(binary).toBeGreaterThan(100);
  });

  it('writes a valid kv.put in binary and reads it back as the same command', () => {
    const command: Command = {
      type: 'kv.put',
      requestId: 'r-1',
      ts: 1_765_000_000_000,
      key: 'k é 😀',
      value: 'v"\\\n',
      ifVersion: 7,
    };
    const bytes = encodeCommand(command);
    expect(bytes[0]).toBe(2);
    expect(decodeCommand(bytes)).toEqual({
      ok: true,
      command,
      print: fingerprintLanes(canonical(command)),
    });
  });

  it('falls back to JSON for what binary cannot carry exactly', () => {
    const base = { type: 'kv.put', requestId: 'r', ts: 1, key: 'k', value: 'v' } as const;
    // A lone surrogate (UTF-8 has none), an unknown field, a negative or fractional number.
    expect(encodeCommand({ ...base, value: '\ud800' })[0]).toBe(1);
    expect(encodeCommand({ ...base, extra: 1 } as unknown as Command)[0]).toBe(1);
    expect(encodeCommand({ ...base, ifVersion: -1 })[0]).toBe(1);
    expect(encodeCommand({ ...base, ts: 1.5 })[0]).toBe(1);
    // proposal.create has a nested policy: always JSON.
    const create = {
      type: 'proposal.create',
      requestId: 'p',
      ts: 1,
      proposalId: 'p1',
      options: ['x', 'y'],
      policy: { kind: 'majority', quorum: 1, deadlineMs: 10, onDeadline: 'plurality' },
    } as const;
    expect(encodeCommand(create as unknown as Command)[0]).toBe(1);
    expect(encodeCommand(base, 'json')[0]).toBe(1);
  });

  it('answers a clear error for truncated, trailing or unknown bytes, never throws', () => {
    const bytes = encodeCommand({ type: 'kv.put', requestId: 'r', ts: 1, key: 'k', value: 'v' });
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const decoded = decodeCommand(bytes.subarray(0, cut));
      expect(decoded).toEqual({ ok: false, error: expect.any(String) });
    }
    expect(decodeCommand(Uint8Array.of(...bytes, 0))).toEqual({
      ok: false,
      error: '1 bytes after a kv.put command',
    });
    expect(decodeCommand(Uint8Array.of(2, 99, 0, 0))).toEqual({
      ok: false,
      error: 'unknown command type code 99',
    });
    const badUtf8 = Uint8Array.from(bytes);
    badUtf8[bytes.length - 1] = 0xff; // the value's byte: the strings come last
    expect(decodeCommand(badUtf8)).toEqual({ ok: false, error: 'kv.put strings are not UTF-8' });
    // Lengths that cut a character in two: the strings together are UTF-8, one alone is not.
    const split = encodeCommand({ type: 'kv.put', requestId: 'r', ts: 1, key: 'é', value: 'v' });
    const lengths = 2 + 8 + 8;
    expect(split[lengths + 7]).toBe(2); // the key's length: é is two bytes
    split[lengths + 7] = 1;
    split[lengths + 11] = 2;
    expect(decodeCommand(split)).toEqual({ ok: false, error: 'kv.put key is not UTF-8' });
  });
});

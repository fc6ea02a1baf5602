import fc from 'fast-check';
import { canonical } from './canonical';

/**
 * The text the fingerprints in existing snapshots were computed from: an independent oracle
 * written the obvious way. `canonical` must give exactly this for every value, or a retried
 * request would read as a reused key after an upgrade.
 */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => k !== 'ts' && (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('canonical', () => {
  it('writes the same text as the reference for any JSON-like value, undefined included', () => {
    const values = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(undefined),
        fc.constant(null),
        fc.boolean(),
        fc.double(),
        fc.integer(),
        fc.string(),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constant('ts')), tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    fc.assert(
      fc.property(values, (value) => canonical(value) === reference(value)),
      { numRuns: 2000 },
    );
  });

  it('leaves ts out and sorts keys', () => {
    expect(canonical({ type: 'kv.put', ts: 5, key: 'k', requestId: 'r', value: 'v' })).toBe(
      '{"key":"k","requestId":"r","type":"kv.put","value":"v"}',
    );
  });
});

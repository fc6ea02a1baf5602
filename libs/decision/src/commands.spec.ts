import { LIMITS, validateCommand } from './commands';

const put = (key: string, value = 'v') =>
  validateCommand({ type: 'kv.put', requestId: 'r1', ts: 1, key, value });

describe('command validation at the byte limits', () => {
  it('counts UTF-8 bytes, not characters: a key of multi-byte characters at and past the limit', () => {
    const max = LIMITS.keyBytesMax;
    expect(put('a'.repeat(max)).ok).toBe(true);
    expect(put('a'.repeat(max + 1)).ok).toBe(false);
    // 'é' is 2 bytes, '€' 3 and '😀' (a surrogate pair) 4.
    expect(put('é'.repeat(max / 2)).ok).toBe(true);
    expect(put('é'.repeat(max / 2) + 'a').ok).toBe(false);
    expect(put('😀'.repeat(max / 4)).ok).toBe(true);
    expect(put('😀'.repeat(max / 4) + 'a').ok).toBe(false);
    expect(put('€'.repeat(Math.floor(max / 3)) + 'a'.repeat(max % 3)).ok).toBe(true);
    expect(put('€'.repeat(Math.floor(max / 3) + 1)).ok).toBe(false);
  });

  it('applies the same rule to values', () => {
    const max = LIMITS.valueBytesMax;
    expect(put('k', '€'.repeat(Math.floor(max / 3))).ok).toBe(true);
    expect(put('k', '€'.repeat(Math.floor(max / 3) + 1)).ok).toBe(false);
  });

  it('refuses ids with a control character anywhere', () => {
    const vote = (agentId: string) =>
      validateCommand({
        type: 'proposal.vote',
        requestId: 'r1',
        ts: 1,
        proposalId: 'p',
        agentId,
        option: 'a',
      });
    expect(vote('agent-1').ok).toBe(true);
    expect(vote('agent\n1').ok).toBe(false);
    expect(vote('agent-1\u001f').ok).toBe(false);
    expect(vote('\u0000').ok).toBe(false);
    expect(vote('agent-😀').ok).toBe(true);
  });
});

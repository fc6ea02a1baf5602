import { decisionApiConfigSchema } from '../config';
import { ApiKeys, digest } from './api-keys';

const KEY = (name: string) => `${name}-0123456789abcdef`;

function keysOf(list: string) {
  const parsed = decisionApiConfigSchema.safeParse({ PARLEY_API_KEYS: list });
  if (!parsed.success) throw new Error(parsed.error.message);
  return parsed.data;
}

describe('API keys bound to an agent', () => {
  it('reads agent@<agentId>:key beside role:key, the agent id may hold a colon', () => {
    const config = keysOf(
      `agent:${KEY('free')},agent@bidder-7:${KEY('b7')},agent@tenant:a1:${KEY('t')},reader:${KEY('r')}`,
    );
    expect(config.PARLEY_API_KEYS).toEqual([
      { role: 'agent', key: KEY('free') },
      { role: 'agent', key: KEY('b7'), agentId: 'bidder-7' },
      { role: 'agent', key: KEY('t'), agentId: 'tenant:a1' },
      { role: 'reader', key: KEY('r') },
    ]);
    expect(config.PARLEY_VOTES_REQUIRE_BOUND_KEY).toBe(false);
  });

  it('refuses a binding on another role, or an empty agent id', () => {
    for (const list of [`reader@x:${KEY('r')}`, `agent@:${KEY('a')}`])
      expect(decisionApiConfigSchema.safeParse({ PARLEY_API_KEYS: list }).success).toBe(false);
  });

  const keys = (requireBound: boolean) =>
    new ApiKeys(
      [
        { role: 'agent', key: KEY('free') },
        { role: 'agent', key: KEY('b7'), agentId: 'bidder-7' },
      ],
      requireBound,
    );
  const callerOf = (apiKeys: ApiKeys, key: string) => apiKeys.callerOfDigest(digest(key));

  it('a bound key votes only as its agent, and never names a weight', () => {
    const apiKeys = keys(false);
    const bound = callerOf(apiKeys, KEY('b7'));
    expect(bound).toEqual({ role: 'agent', agentId: 'bidder-7' });
    expect(apiKeys.voteRefusal(bound, { agentId: 'bidder-7', option: 'yes' })).toBeUndefined();
    const asOther = apiKeys.voteRefusal(bound, { agentId: 'bidder-8', option: 'yes' });
    expect(asOther?.getStatus()).toBe(403);
    expect(asOther?.extra.type).toBe('agent-binding-mismatch');
    expect(asOther?.message).toBeDefined();
    expect(
      apiKeys.voteRefusal(bound, { agentId: 'bidder-7', option: 'yes', weight: 5 })?.getStatus(),
    ).toBe(403);
  });

  it('an unbound agent key votes as anyone, unless every vote must be bound', () => {
    const free = { role: 'agent' as const };
    expect(keys(false).voteRefusal(free, { agentId: 'anyone', weight: 9 })).toBeUndefined();
    expect(keys(true).voteRefusal(free, { agentId: 'anyone' })?.extra.type).toBe(
      'vote-key-not-bound',
    );
    expect(
      keys(true).voteRefusal(callerOf(keys(true), KEY('b7')), { agentId: 'bidder-7' }),
    ).toBeUndefined();
  });
});

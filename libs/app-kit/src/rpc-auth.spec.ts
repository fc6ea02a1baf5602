import { redactUrl } from './redact-url';
import { RpcVerifier, signRpc } from './rpc-auth';

const SECRET = 'rpc-secret-0123456789abcdef';

describe('RPC request authentication', () => {
  it('accepts a signed request once and hands back the body without auth', () => {
    const verifier = new RpcVerifier(SECRET);
    const signed = signRpc(SECRET, 'command-log.propose', { command: { type: 'kv.put' } }, 1_000);
    expect(verifier.verify('command-log.propose', signed, 1_000)).toEqual({
      ok: true,
      body: { command: { type: 'kv.put' } },
    });
    expect(verifier.verify('command-log.propose', signed, 1_001)).toEqual({
      ok: false,
      reason: 'replayed request',
    });
  });

  it('refuses a wrong secret, another pattern, a changed body, stale time and bad shapes', () => {
    const verifier = new RpcVerifier(SECRET);
    const signed = signRpc(SECRET, 'command-log.read', { query: { key: 'a' } }, 50_000);
    const reason = (payload: unknown, pattern = 'command-log.read', now = 50_000) => {
      const verdict = verifier.verify(pattern, payload, now);
      return verdict.ok ? 'ok' : verdict.reason;
    };
    expect(
      reason(signRpc('another-secret-0123456789', 'command-log.read', { query: {} }, 50_000)),
    ).toBe('bad mac');
    expect(reason(signed, 'command-log.propose')).toBe('bad mac');
    expect(reason({ ...signed, query: { key: 'b' } })).toBe('bad mac');
    expect(reason(signed, 'command-log.read', 50_000 + 31_000)).toBe(
      'auth timestamp outside the allowed clock skew',
    );
    expect(reason({ query: {} })).toBe('missing auth');
    expect(reason({ auth: { ts: 'x', nonce: 'n', mac: 'm' } })).toBe('malformed auth');
    expect(reason(null)).toBe('request body must be an object');
    expect(reason([1, 2])).toBe('request body must be an object');
    expect(reason(signed)).toBe('ok');
  });

  it('forgets nonces once they are outside the skew window (bounded memory)', () => {
    const verifier = new RpcVerifier(SECRET, 1_000);
    const first = signRpc(SECRET, 'p', {}, 0);
    expect(verifier.verify('p', first, 0).ok).toBe(true);
    expect(verifier.verify('p', signRpc(SECRET, 'p', {}, 5_000), 5_000).ok).toBe(true);
    expect((verifier as unknown as { seen: Map<string, number> }).seen.size).toBe(1);
  });
});

describe('redactUrl', () => {
  it('hides credentials and token parameters', () => {
    expect(redactUrl('nats://user:pw@127.0.0.1:4222')).toBe('nats://***:***@127.0.0.1:4222');
    expect(redactUrl('https://h/x?token=abc&a=1')).toBe('https://h/x?token=***&a=1');
    expect(redactUrl('not a url')).toBe('<unparseable url>');
  });
});

import { decisionApiConfigSchema } from './config';

const base = { PARLEY_API_KEYS: 'agent:agent-key-0123456789abcdef' };

describe('decision-api config: outbox and alerts', () => {
  it('takes the defaults: no outbox, no webhook, bounded queues', () => {
    const config = decisionApiConfigSchema.parse(base);
    expect(config.PARLEY_OUTBOX_DIR).toBeUndefined();
    expect(config.PARLEY_OUTBOX_ENTRIES_MAX).toBe(100_000);
    expect(config.PARLEY_ALERT_WEBHOOK_URL).toBeUndefined();
    expect(config.PARLEY_ALERT_QUEUE_MAX).toBe(1_000);
  });

  it.each([
    [
      { PARLEY_OUTBOX_RETRY_BASE_MS: '2000', PARLEY_OUTBOX_RETRY_MAX_MS: '1000' },
      'PARLEY_OUTBOX_RETRY_BASE_MS',
    ],
    [{ PARLEY_ALERT_WEBHOOK_SECRET: 'a-secret-of-16-chars' }, 'PARLEY_ALERT_WEBHOOK_SECRET'],
    [{ PARLEY_ALERT_WEBHOOK_URL: 'ftp://example.invalid/hook' }, 'PARLEY_ALERT_WEBHOOK_URL'],
    [
      { PARLEY_ALERT_WEBHOOK_URL: 'http://127.0.0.1:1/h', PARLEY_ALERT_WEBHOOK_SECRET: 'short' },
      'PARLEY_ALERT_WEBHOOK_SECRET',
    ],
    [{ PARLEY_OUTBOX_ENTRIES_MAX: '0' }, 'PARLEY_OUTBOX_ENTRIES_MAX'],
  ])('refuses %j, naming %s', (env, field) => {
    const parsed = decisionApiConfigSchema.safeParse({ ...base, ...env });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((issue) => issue.path[0])).toContain(field);
  });
});

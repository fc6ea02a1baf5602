/** API keys the tests start decision-api with, one per role (SPEC §3). */
export const TEST_KEYS = {
  agent: 'agent-key-0123456789abcdef',
  reader: 'reader-key-0123456789abcdef',
  operator: 'operator-key-0123456789abcdef',
};

/** The same keys as PARLEY_API_KEYS expects them: `role:key,...`. */
export const TEST_API_KEYS = Object.entries(TEST_KEYS)
  .map(([role, key]) => `${role}:${key}`)
  .join(',');

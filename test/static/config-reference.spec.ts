import { readFileSync } from 'node:fs';
import { CONFIGURATION_DOC, withReference } from '../../scripts/config-reference';

/** docs/configuration.md's reference is generated from the schemas; it must not drift. */
describe('configuration reference', () => {
  it('is exactly what the config schemas generate (run npm run docs:config)', () => {
    const readme = readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(readme).toBe(withReference(readme));
  });

  it('lists every setting of every app', () => {
    const readme = readFileSync(CONFIGURATION_DOC, 'utf8');
    for (const setting of [
      'PARLEY_CLUSTER_SECRET',
      'PARLEY_API_KEYS',
      'PARLEY_GOSSIP_SUSPICION_MULT',
      'PARLEY_CRDT_ANTI_ENTROPY_MS',
    ])
      expect(readme).toContain(`\`${setting}\``);
  });
});

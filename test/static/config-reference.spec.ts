import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withReference } from '../../scripts/config-reference';

/** The README's configuration reference is generated from the schemas; it must not drift. */
describe('README configuration reference', () => {
  it('is exactly what the config schemas generate (run npm run docs:config)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toBe(withReference(readme));
  });

  it('lists every setting of every app', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const setting of [
      'PARLEY_CLUSTER_SECRET',
      'PARLEY_API_KEYS',
      'PARLEY_GOSSIP_SUSPICION_MULT',
      'PARLEY_CRDT_ANTI_ENTROPY_MS',
    ])
      expect(readme).toContain(`\`${setting}\``);
  });
});

/**
 * Writes docs/configuration.md's reference from the apps' config schemas
 * (npm run docs:config), between the config-reference markers, so it cannot drift:
 * test/static/config-reference.spec.ts fails when the document is not what this would write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReference } from '../libs/config/src';
import { commandLogConfigSchema } from '../apps/command-log/src/config';
import { crdtConfigSchema } from '../apps/crdt/src/config';
import { decisionApiConfigSchema } from '../apps/decision-api/src/config';
import { gossipConfigSchema } from '../apps/gossip/src/config';

export const START = '<!-- config-reference:start (npm run docs:config) -->';
export const END = '<!-- config-reference:end -->';
export const CONFIGURATION_DOC = join(__dirname, '..', 'docs', 'configuration.md');

export function generatedReference(): string {
  return configReference([
    { name: 'command-log', schema: commandLogConfigSchema },
    { name: 'gossip', schema: gossipConfigSchema },
    { name: 'crdt', schema: crdtConfigSchema },
    { name: 'decision-api', schema: decisionApiConfigSchema },
  ]);
}

export function withReference(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error('no config-reference markers');
  return `${readme.slice(0, start + START.length)}\n${generatedReference()}\n${readme.slice(end)}`;
}

if (require.main === module) {
  writeFileSync(CONFIGURATION_DOC, withReference(readFileSync(CONFIGURATION_DOC, 'utf8')));
  console.log('docs/configuration.md reference updated');
}

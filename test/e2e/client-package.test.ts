import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/local-cluster';

jest.setTimeout(180_000);

/**
 * @parley/client as a package: `npm run build:client` builds it, and a project that installed
 * it (here: linked into its node_modules) imports it from ES modules and from CommonJS (the
 * same classes either way) and type-checks against its declarations.
 */
describe('the @parley/client package', () => {
  const project = mkdtempSync(join(tmpdir(), 'parley-client-consumer-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  const node = (args: string[]) =>
    execFileSync(process.execPath, args, { cwd: project, encoding: 'utf8' }).trim();

  beforeAll(() => {
    execFileSync('npm', ['run', '--silent', 'build:client'], { cwd: repoRoot, stdio: 'pipe' });
    mkdirSync(join(project, 'node_modules', '@parley'), { recursive: true });
    symlinkSync(
      join(repoRoot, 'libs', 'client'),
      join(project, 'node_modules', '@parley', 'client'),
    );
  });

  it('loads from ES modules and CommonJS alike, one set of classes', () => {
    writeFileSync(
      join(project, 'both.mjs'),
      [
        "import { createRequire } from 'node:module';",
        "import { ParleyClient, ParleyConflict, ROUTES } from '@parley/client';",
        'const cjs = createRequire(import.meta.url)("@parley/client");',
        "const client = new ParleyClient({ endpoints: 'http://127.0.0.1:1' });",
        'client.close();',
        'console.log(JSON.stringify({',
        '  same: cjs.ParleyClient === ParleyClient && cjs.ParleyConflict === ParleyConflict,',
        "  reserve: ROUTES['inventory.reserve'].path,",
        '}));',
      ].join('\n'),
    );
    expect(JSON.parse(node(['both.mjs']))).toEqual({
      same: true,
      reserve: '/v1/inventory/{sku}/reservations',
    });
    expect(node(['-e', "console.log(typeof require('@parley/client').ParleyClient)"])).toBe(
      'function',
    );
  });

  it('type-checks a consumer against its declarations, body types from the contract', () => {
    writeFileSync(
      join(project, 'agent.ts'),
      [
        "import { ParleyClient, ParleyConflict } from '@parley/client';",
        'export async function decide(client: ParleyClient): Promise<string> {',
        "  const answer = await client.inventory.reserve('apple', { orderId: 'o1', quantity: 1 });",
        "  const status: 'accepted' | 'rejected' = answer.status;",
        '  return status + String(ParleyConflict.name);',
        '}',
        '// @ts-expect-error quantity is a number in the contract',
        "export const wrong = (c: ParleyClient) => c.inventory.reserve('a', { orderId: 'o', quantity: '1' });",
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2023',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
        },
        files: ['agent.ts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(() => node([tsc, '-p', 'tsconfig.json'])).not.toThrow();
  });
});

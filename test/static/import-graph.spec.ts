import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ImportEdge, layerViolations, readImports } from './import-graph';

const repoRoot = join(__dirname, '..', '..');

describe('the import graph of apps and libs', () => {
  const edges = readImports(repoRoot);

  it('is read from the sources, aliases resolved', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({
      from: 'apps/decision-api/src/cluster-client/command-log-client.ts',
      to: 'libs/command-log-api/src',
      specifier: '@parley/command-log-api',
    });
  });

  it('keeps the layer rules: no app imports another app, no lib an app, no lib cycle', () => {
    expect(layerViolations(edges)).toEqual([]);
  });
});

describe('layerViolations', () => {
  const edge = (from: string, to: string, specifier = to): ImportEdge => ({ from, to, specifier });

  it('passes apps on libs, libs on libs without a cycle, and tests on anything', () => {
    expect(
      layerViolations([
        edge('apps/a/src/main.ts', 'libs/x/src'),
        edge('apps/a/src/main.ts', 'apps/a/src/config'),
        edge('libs/x/src/index.ts', 'libs/y/src'),
        edge('libs/y/src/index.ts', 'libs/y/src/inner'),
        edge('test/e2e/a.test.ts', 'apps/a/src/config'),
        edge('scripts/bench.ts', 'apps/b/src/wal'),
      ]),
    ).toEqual([]);
  });

  it("flags an app that imports another app's source", () => {
    expect(
      layerViolations([
        edge('apps/a/src/client.ts', 'apps/b/src/api/rpc-patterns', '../../b/src/api/rpc-patterns'),
      ]),
    ).toEqual([
      "no-app-to-app: apps/a/src/client.ts imports '../../b/src/api/rpc-patterns' (apps/b); share it through a lib",
    ]);
  });

  it("lets the node app import other apps' definitions, and nothing else of theirs", () => {
    expect(
      layerViolations([
        edge('apps/node/src/main.ts', 'apps/command-log/src/command-log.app'),
        edge('apps/node/src/main.ts', 'apps/decision-api/src/decision-api.app'),
        edge('apps/node/src/main.ts', 'apps/crdt/src/replica-store'),
        edge('apps/gossip/src/main.ts', 'apps/crdt/src/crdt.app'),
        edge('apps/node/src/main.ts', 'apps/crdt/src/gossip.app'),
      ]),
    ).toEqual([
      "no-app-to-app: apps/node/src/main.ts imports 'apps/crdt/src/replica-store' (apps/crdt); share it through a lib",
      "no-app-to-app: apps/gossip/src/main.ts imports 'apps/crdt/src/crdt.app' (apps/crdt); share it through a lib",
      "no-app-to-app: apps/node/src/main.ts imports 'apps/crdt/src/gossip.app' (apps/crdt); share it through a lib",
    ]);
  });

  it('flags a lib that imports an app', () => {
    expect(layerViolations([edge('libs/x/src/index.ts', 'apps/a/src/config')])).toEqual([
      "no-lib-to-app: libs/x/src/index.ts imports 'apps/a/src/config' (apps/a)",
    ]);
  });

  it('flags each lib cycle once, however many edges close it', () => {
    expect(
      layerViolations([
        edge('libs/z/src/index.ts', 'libs/x/src'),
        edge('libs/x/src/index.ts', 'libs/y/src'),
        edge('libs/x/src/other.ts', 'libs/y/src/deep'),
        edge('libs/y/src/index.ts', 'libs/z/src'),
        edge('libs/y/src/index.ts', 'libs/w/src'),
        edge('libs/w/src/index.ts', 'libs/w/src/own'),
      ]),
    ).toEqual(['no-lib-cycle: libs/x -> libs/y -> libs/z -> libs/x']);
    expect(
      layerViolations([
        edge('libs/a/src/index.ts', 'libs/b/src'),
        edge('libs/b/src/index.spec.ts', 'libs/a/src'),
      ]),
    ).toEqual(['no-lib-cycle: libs/a -> libs/b -> libs/a']);
  });
});

describe('readImports', () => {
  let root: string;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'parley-import-graph-'));
    write('tsconfig.json', '{ "compilerOptions": { "paths": { "@x/lib": ["./libs/lib/src"] } } }');
    write(
      'apps/a/src/http/client.ts',
      [
        "import { RPC } from '../../../b/src/api/rpc-patterns';",
        "export type { Answer } from '@x/lib';",
        "import { readFileSync } from 'node:fs';",
        "const late = () => import('../../../b/src/late');",
        "const old = require('../config.js');",
      ].join('\n'),
    );
    write('libs/lib/src/index.ts', "import '../../../apps/a/src/config';\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds static, re-export, dynamic and require imports, and resolves relative paths and aliases', () => {
    expect(readImports(root)).toEqual([
      {
        from: 'apps/a/src/http/client.ts',
        to: 'apps/b/src/api/rpc-patterns',
        specifier: '../../../b/src/api/rpc-patterns',
      },
      { from: 'apps/a/src/http/client.ts', to: 'libs/lib/src', specifier: '@x/lib' },
      {
        from: 'apps/a/src/http/client.ts',
        to: 'apps/b/src/late',
        specifier: '../../../b/src/late',
      },
      { from: 'apps/a/src/http/client.ts', to: 'apps/a/src/config', specifier: '../config.js' },
      {
        from: 'libs/lib/src/index.ts',
        to: 'apps/a/src/config',
        specifier: '../../../apps/a/src/config',
      },
    ]);
  });

  it('so the rules catch the violations in those files', () => {
    expect(layerViolations(readImports(root)).map((line) => line.split(':')[0])).toEqual([
      'no-app-to-app',
      'no-app-to-app',
      'no-lib-to-app',
    ]);
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import * as ts from 'typescript';

/**
 * The layer rules between apps and libs (DESIGN.md: apps talk through contracts), checked on the
 * import graph of the sources. ESLint has no resolver-aware import rule in this repo (no
 * eslint-plugin-import), so the graph is read here with the TypeScript compiler's own import
 * scanner and the tsconfig "paths" aliases.
 *
 * - no-app-to-app: an app never imports another app's source; what they share lives in a lib.
 *   The one composition root, apps/node (several apps in one node process), may import each
 *   app's definition, `apps/<app>/src/<app>.app`, and nothing else of it.
 * - no-lib-to-app: a lib never imports an app.
 * - no-lib-cycle: the graph of libs (lib A imports lib B) has no cycle.
 *
 * test/ and scripts/ belong to no unit: tests may reach into any app.
 */

/** One import, both ends as repo-relative POSIX paths (`to` without extension). */
export interface ImportEdge {
  from: string;
  to: string;
  specifier: string;
}

const UNIT_ROOTS = ['apps', 'libs'];

/** `apps/<name>` or `libs/<name>` for a repo-relative path inside one, else null. */
export function unitOf(path: string): string | null {
  const [top, name] = path.split('/');
  return UNIT_ROOTS.includes(top) && name ? `${top}/${name}` : null;
}

function sourceFiles(root: string, dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(root, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** The "paths" aliases of root/tsconfig.json, e.g. `@parley/raft` -> `libs/raft/src`. */
function aliases(root: string): Map<string, string> {
  const { config, error } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const paths: Record<string, string[]> = config.compilerOptions?.paths ?? {};
  return new Map(
    Object.entries(paths).map(([alias, [target]]) => [alias, posix.normalize(target)]),
  );
}

/**
 * Every import (static, `export from`, `import()` and `require`) of the .ts files under apps/
 * and libs/ of `root` that names a relative path or a tsconfig alias; package imports are left
 * out.
 */
export function readImports(root: string): ImportEdge[] {
  const aliasTargets = aliases(root);
  const edges: ImportEdge[] = [];
  for (const from of UNIT_ROOTS.flatMap((dir) => sourceFiles(root, dir))) {
    const text = readFileSync(join(root, from), 'utf8');
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      let to: string | undefined;
      if (specifier.startsWith('.')) {
        to = relative(root, join(root, dirname(from), specifier))
          .split(sep)
          .join('/');
      } else {
        to = aliasTargets.get(specifier);
      }
      if (to !== undefined) edges.push({ from, to: to.replace(/\.(ts|js)$/, ''), specifier });
    }
  }
  return edges;
}

/** Each cycle of the unit graph once, as `a -> b -> ... -> a`, starting at its least unit. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found = new Set<string>();
  const walk = (path: string[]): void => {
    for (const next of graph.get(path[path.length - 1]) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const loop = path.slice(at);
        const start = loop.indexOf([...loop].sort()[0]);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        found.add([...rotated, rotated[0]].join(' -> '));
      } else {
        walk([...path, next]);
      }
    }
  };
  for (const unit of [...graph.keys()].sort()) walk([unit]);
  return [...found].sort();
}

/** The app that runs other apps in one process (a node), through their definitions only. */
const COMPOSITION_ROOT = 'apps/node';

/** `apps/<app>/src/<app>.app`: what an app exports for `bootstrapApp`. */
function isAppDefinition(path: string): boolean {
  const match = /^apps\/([^/]+)\/src\/([^/]+)\.app$/.exec(path);
  return match !== null && match[1] === match[2];
}

/** The broken rules of an import graph, one line each; empty when it keeps them all. */
export function layerViolations(edges: readonly ImportEdge[]): string[] {
  const violations: string[] = [];
  const libGraph = new Map<string, Set<string>>();
  for (const { from, to, specifier } of edges) {
    const fromUnit = unitOf(from);
    const toUnit = unitOf(to);
    if (!fromUnit || !toUnit || fromUnit === toUnit) continue;
    if (fromUnit === COMPOSITION_ROOT && isAppDefinition(to)) continue;
    if (fromUnit.startsWith('apps/') && toUnit.startsWith('apps/')) {
      violations.push(
        `no-app-to-app: ${from} imports '${specifier}' (${toUnit}); share it through a lib`,
      );
    } else if (fromUnit.startsWith('libs/') && toUnit.startsWith('apps/')) {
      violations.push(`no-lib-to-app: ${from} imports '${specifier}' (${toUnit})`);
    } else if (fromUnit.startsWith('libs/')) {
      const targets = libGraph.get(fromUnit) ?? new Set<string>();
      libGraph.set(fromUnit, targets.add(toUnit));
    }
  }
  return [...violations, ...cycles(libGraph).map((cycle) => `no-lib-cycle: ${cycle}`)];
}

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The top folders form layers: a folder imports only folders of a lower rank, so
 * no cycle between folders can come back. web/core/core-boundary.test.ts checks
 * more closely what web/core itself may import (no folder, only its packages);
 * this test checks the direction between every pair of folders.
 *
 * What counts as an import: every relative specifier TypeScript's preProcessFile
 * finds (import, import type, export from, import(), require), JSON included.
 * Not counted: asset URLs (`?url`, `?worker&url`: the module is loaded by URL in
 * another thread, not evaluated with the importer) and the imports of test files
 * (*.test.ts), which may import anything because nothing imports them (checked
 * below), so they cannot close a cycle. Test helpers (tests/, bench/) are ranked
 * like any folder, above everything they test.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Rank of each folder (or loose file): a unit may import units of a lower rank
 * only. Read it bottom-up: the engine, then what builds on it.
 */
const RANKS: Record<string, number> = {
  // The engine: imports no folder of ours (core-boundary.test.ts).
  'web/core': 0,
  // AssemblyScript sources of the DSP nodes: compiled on their own.
  'wasm-nodes': 0,
  // Environment detection, asked by everything that runs in a browser.
  'web/platform.ts': 1,
  // Node families on the core: Python in Pyodide (no hosts, no channels), Silero VAD.
  'web/python': 1,
  'web/nodes': 1,
  // The browser runtime (channels, islands, hosts, the Python worker's host) and
  // the gateway: each on the core and the node families, never on each other.
  'web/runtime': 2,
  'remote-gateway': 2,
  // Worker entry points, the Node client, the CLI, the Vite plugin.
  workers: 3,
  'web/node': 3,
  'web/cli': 3,
  'web/vite': 3,
  // The package entries (web/index.ts, web/index.node.ts, web/prebuilt.ts).
  'web (entries)': 4,
  examples: 5,
  // The demo app, on the public entries.
  'web/app': 6,
  // Test helpers and fixtures, build scripts; benchmarks and the root's tooling
  // (vite.config.ts) use them.
  tests: 7,
  scripts: 7,
  bench: 8,
  tooling: 8,
};

const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'dist-app', 'test-results', '.git']);

/** The unit a repository path belongs to: its top folder (web/x for web), or a loose file's. */
export function unitOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'web') {
    if (parts.length > 2) return `web/${parts[1]}`;
    return parts[1] === 'platform.ts' ? 'web/platform.ts' : 'web (entries)';
  }
  return parts.length > 1 ? parts[0]! : 'tooling';
}

function isTestFile(path: string): boolean {
  return /\.test\.ts$/.test(path);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED_DIRS.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.m?tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

export interface ImportEdge {
  /** Repository-relative paths. */
  from: string;
  to: string;
  specifier: string;
}

/** Every relative import of every .ts file under ROOT, asset URLs left out. */
function importsOfTree(): ImportEdge[] {
  return sources(ROOT).flatMap((file) => {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    return info.importedFiles
      .map((i) => i.fileName)
      .filter((specifier) => specifier.startsWith('.') && !/\?(.*&)?(url|worker)\b/.test(specifier))
      .map((specifier) => ({
        from: relative(ROOT, file),
        to: relative(ROOT, resolve(dirname(file), specifier.replace(/\?.*$/, ''))),
        specifier,
      }));
  });
}

export interface Violation {
  message: string;
}

/**
 * The checker: for import edges between files, every cycle between units (with an
 * edge that makes each step) and every edge against the ranks, plus edges into
 * test files and units missing from the table.
 */
export function checkImports(
  edges: readonly ImportEdge[],
  ranks: Readonly<Record<string, number>>,
  isTest: (path: string) => boolean = isTestFile,
): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    if (isTest(edge.to) && !isTest(edge.from)) {
      violations.push({ message: `${edge.from} imports the test file ${edge.to}` });
    }
    if (isTest(edge.from)) continue;
    const from = unitOf(edge.from);
    const to = unitOf(edge.to);
    if (from === to) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, edge);
  }
  for (const [from, targets] of graph) {
    for (const [to, edge] of targets) {
      const missing = [from, to].filter((u) => !(u in ranks));
      if (missing.length > 0) {
        violations.push({
          message: `${missing.join(' and ')} not in the rank table (${edge.from} imports ${edge.specifier}): add it where it belongs`,
        });
        continue;
      }
      if (ranks[to]! >= ranks[from]!) {
        violations.push({
          message: `${from} (rank ${ranks[from]}) must not import ${to} (rank ${ranks[to]}): ${edge.from} imports ${edge.specifier}`,
        });
      }
    }
  }
  for (const cycle of cyclesOf(graph)) {
    const steps = cycle.map((unit, i) => {
      const next = cycle[(i + 1) % cycle.length]!;
      return `${unit} -> ${next} (${graph.get(unit)!.get(next)!.from})`;
    });
    violations.push({ message: `import cycle: ${steps.join(', ')}` });
  }
  return violations;
}

/** One cycle through each strongly connected group of units (Tarjan), as a unit path. */
function cyclesOf(graph: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (unit: string) => {
    index.set(unit, counter);
    low.set(unit, counter++);
    stack.push(unit);
    onStack.add(unit);
    for (const next of graph.get(unit)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(unit, Math.min(low.get(unit)!, index.get(next)!));
      }
    }
    if (low.get(unit) === index.get(unit)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== unit);
      if (group.length > 1) groups.push(group);
    }
  };
  for (const unit of graph.keys()) if (!index.has(unit)) visit(unit);
  // Within a group every unit reaches every other: walk from its first unit (by
  // name, so that the message is stable) back to it.
  return groups.map((group) => {
    const members = new Set(group);
    const start = [...group].sort()[0]!;
    const path = [start];
    const seen = new Set([start]);
    const walk = (unit: string): boolean => {
      for (const next of graph.get(unit)?.keys() ?? []) {
        if (next === start) return true;
        if (!members.has(next) || seen.has(next)) continue;
        seen.add(next);
        path.push(next);
        if (walk(next)) return true;
        path.pop();
      }
      return false;
    };
    walk(start);
    return path;
  });
}

const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: to });

describe('import direction between top folders', () => {
  it('the checker finds an injected cycle and names the files that make it', () => {
    const violations = checkImports(
      [
        edge('web/runtime/runtime.ts', 'web/python/python-node.ts'),
        edge('web/python/python-host.ts', 'web/runtime/pipeline-host.ts'),
        edge('web/python/python-node.ts', 'web/core/internal.ts'),
      ],
      { 'web/core': 0, 'web/python': 1, 'web/runtime': 2 },
    );
    expect(violations.map((v) => v.message)).toEqual([
      'web/python (rank 1) must not import web/runtime (rank 2): web/python/python-host.ts imports web/runtime/pipeline-host.ts',
      'import cycle: web/python -> web/runtime (web/python/python-host.ts), web/runtime -> web/python (web/runtime/runtime.ts)',
    ]);
  });

  it('the checker finds a cycle through three folders', () => {
    const violations = checkImports(
      [edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'c/z.ts'), edge('c/z.ts', 'a/x.ts')],
      { a: 0, b: 0, c: 0 },
    );
    expect(violations.map((v) => v.message)).toContain(
      'import cycle: a -> b (a/x.ts), b -> c (b/y.ts), c -> a (c/z.ts)',
    );
  });

  it('the checker refuses an import into a test file and a folder missing from the table', () => {
    const violations = checkImports(
      [edge('web/core/a.ts', 'web/core/a.test.ts'), edge('web/new/x.ts', 'web/core/a.ts')],
      { 'web/core': 0 },
    );
    expect(violations.map((v) => v.message)).toEqual([
      'web/core/a.ts imports the test file web/core/a.test.ts',
      'web/new not in the rank table (web/new/x.ts imports web/core/a.ts): add it where it belongs',
    ]);
  });

  it('the checker lets tests import anything', () => {
    expect(
      checkImports([edge('web/core/a.test.ts', 'web/app/main.ts')], {
        'web/core': 0,
        'web/app': 6,
      }),
    ).toEqual([]);
  });

  it('reads the real tree', () => {
    const edges = importsOfTree();
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual(
      expect.objectContaining({ from: 'web/runtime/runtime.ts', to: 'web/core/internal.ts' }),
    );
  });

  it('every import in the tree goes down the ranks, and no folders import each other', () => {
    expect(checkImports(importsOfTree(), RANKS).map((v) => v.message)).toEqual([]);
  });
});

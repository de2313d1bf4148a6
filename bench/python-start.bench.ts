/**
 * Python cold start, side by side in one run: a bare loadPyodide() (the baseline)
 * against our Python runtime started to the first block out of a PythonNode, from
 * a memory snapshot and (in Node) with the plain start it replaces. In Node with
 * a snapshot file made by a first, plain start; in Chromium through createRuntime
 * and a new Python worker of the prebuilt build (bench/browser/python-start-prebuilt.html).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPyodide, version } from 'pyodide';
import { PipelineRunner, RuntimeData } from '../web/core/internal.ts';
import { definePythonNode } from '../web/python/python-node.ts';
import { startPythonRuntime } from '../web/python/python-runtime.ts';
import type { SnapshotStore } from '../web/python/python-snapshot.ts';
import { fileSnapshotStore, nodeSnapshotStores } from '../web/python/python-snapshot-node.ts';
import { launchChromium } from '../tests/chromium.ts';
import { serveStatic } from '../tests/package/static-server.ts';
import { pythonPackageFiles } from '../tests/python-files.ts';
import type { BenchRow, BenchTable } from './report.ts';

const ENERGY_PY =
  'from remotemedia import Node\nclass Energy(Node):\n    def process(self, data):\n        return sum(x * x for x in data.samples)\n';

/** p50 and p99 (the worst, with this few samples) of a few timings, against a baseline p50. */
function row(name: string, values: number[], baseline?: number): BenchRow {
  const sorted = [...values].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)]!;
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
  return { name, p50, p99, samples: values.length, ratio: p50 / (baseline ?? p50) };
}

/** Start to the first block out of a PythonNode, in this thread. */
async function firstBlock(
  files: Record<string, string>,
  stores?: SnapshotStore[],
): Promise<{ ms: number; from?: string; kept?: Promise<void> }> {
  const started = performance.now();
  const runtime = await startPythonRuntime({
    load: (snapshot) => loadPyodide({ ...snapshot }),
    files,
    runner: new PipelineRunner(),
    snapshot: stores && { pyodideVersion: version, stores, log: () => {} },
  });
  const definition = definePythonNode(async () => runtime);
  const params = await definition.params['~standard'].validate({ source: ENERGY_PY });
  if (params.issues) throw new Error('bad params');
  const context = { nodeId: 'energy', from: undefined, signal: new AbortController().signal };
  const node = definition.create(params.value, context);
  await node.initialize?.();
  await node.process(RuntimeData.audio(new Float32Array(320).fill(0.5), 16000, 1), context);
  return {
    ms: performance.now() - started,
    from: runtime.snapshotFrom,
    kept: runtime.snapshotKept,
  };
}

/** The machine's load beside the figures: they are shared 2-core machines. */
const load = () => loadavg()[0]!.toFixed(1);

export async function benchPythonStartNode(rounds = 5): Promise<BenchTable> {
  const loadBefore = load();
  // What the worker installs: the package, not its tests.
  const files = Object.fromEntries(
    Object.entries(pythonPackageFiles()).filter(([p]) => /^remotemedia(_runtime)?\//.test(p)),
  );
  const dir = mkdtempSync(join(tmpdir(), 'remotemedia-bench-snapshot-'));
  try {
    // The shipped file, made as the build makes it: by a first, plain start.
    const shipped = join(dir, 'remotemedia.snapshot');
    const first = await firstBlock(files, [fileSnapshotStore(shipped)]);
    await first.kept;
    const cacheDir = join(dir, 'user-cache');
    const stores = () => nodeSnapshotStores({ shipped, cacheDir });
    const bare: number[] = [];
    const plain: number[] = [];
    const fresh: number[] = [];
    const cached: number[] = [];
    const from = async (want: string) => {
      const start = await firstBlock(files, stores());
      if (!start.from?.endsWith(want)) throw new Error(`started from ${start.from}, not ${want}`);
      await start.kept; // the copy is written after the first block: not timed
      return start.ms;
    };
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      await loadPyodide();
      bare.push(performance.now() - started);
      plain.push((await firstBlock(files)).ms);
      rmSync(cacheDir, { recursive: true, force: true });
      fresh.push(await from('remotemedia.snapshot'));
      cached.push(await from('python.snapshot'));
    }
    const base = row('', bare).p50;
    const rows = [
      row('bare loadPyodide() (baseline)', bare),
      row('plain start to the first block through a PythonNode (no snapshot)', plain, base),
      row(
        "first start, empty user cache: the shipped gzip'd snapshot (node:zlib), its raw copy then kept",
        fresh,
        base,
      ),
      row('later starts: the raw copy in the user cache', cached, base),
    ];
    return {
      unit: 'per cold start, Node (Pyodide in this process)',
      rows,
      note: `Start to the first block ${rows[2]!.ratio.toFixed(2)}x a bare loadPyodide() from the shipped gzip'd file (a first start), ${rows[3]!.ratio.toFixed(2)}x from the raw copy in the user cache (every later start) (goal: at most 0.3x); plain start ${rows[1]!.ratio.toFixed(2)}x. Every start is in a process that has loaded Pyodide before (the files are in the OS's page cache). Load average ${loadBefore} before, ${load()} after.`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ChromiumResults {
  bareMs: number[];
  firstVisitMs: number[];
  cachedMs: number[];
}

/**
 * In Chromium, with the prebuilt build (dist/browser/, one bundled file per worker,
 * as a built app serves them) on a plain static server: `npm run build` first.
 */
export async function benchPythonStartChromium(rounds = 5): Promise<BenchTable> {
  if (!existsSync('dist/browser/python/remotemedia.snapshot')) {
    throw new Error('dist/browser/ has no Python snapshot: run "npm run build" first');
  }
  const loadBefore = load();
  const root = mkdtempSync(join(tmpdir(), 'remotemedia-bench-prebuilt-'));
  symlinkSync(resolve('dist/browser'), join(root, 'browser'));
  copyFileSync('bench/browser/python-start-prebuilt.html', join(root, 'index.html'));
  const server = await serveStatic(root);
  const browser = await launchChromium();
  try {
    const open = async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => 'runPythonStartBench' in window);
      return { page, context };
    };
    type BenchWindow = Record<string, (rounds?: number) => Promise<unknown>>;
    // First-ever starts: each in a new context, a profile with nothing kept (no HTTP
    // cache, no OPFS, no compiled code), as on a visitor's first load.
    const freshBareMs: number[] = [];
    const freshFirstMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const [name, into] of [
        ['bareMs', freshBareMs],
        ['firstEverMs', freshFirstMs],
      ] as const) {
        const { page, context } = await open();
        into.push(
          (await page.evaluate((n) => (window as unknown as BenchWindow)[n]!(), name)) as number,
        );
        await context.close();
      }
    }
    const { page } = await open();
    const results = (await page.evaluate(
      (n) => (window as unknown as BenchWindow).runPythonStartBench!(n),
      rounds,
    )) as ChromiumResults;
    const base = row('', results.bareMs).p50;
    const freshBase = row('', freshBareMs).p50;
    const rows = [
      row('bare loadPyodide() on the page, files in the HTTP cache (baseline)', results.bareMs),
      row(
        "createRuntime() to the first block out of a PythonNode, nothing kept yet: the shipped gzip'd snapshot (files in the HTTP cache)",
        results.firstVisitMs,
        base,
      ),
      row('the same, later visits: its raw copy in OPFS', results.cachedMs, base),
      row(
        'first-ever visit, fresh profile: bare loadPyodide() (baseline of the next row)',
        freshBareMs,
      ),
      row(
        "first-ever visit, fresh profile: createRuntime() to the first block (every file fetched, shipped gzip'd snapshot)",
        freshFirstMs,
        freshBase,
      ),
    ];
    return {
      unit: 'per cold start, Chromium (the prebuilt build, dist/browser/, on a static server on loopback)',
      rows,
      note: `Python worker cold start ${rows[2]!.ratio.toFixed(2)}x a bare loadPyodide() on later visits (raw copy in OPFS), ${rows[1]!.ratio.toFixed(2)}x when nothing is kept yet (shipped gzip'd snapshot) (goal: at most 0.3x). On a fresh profile (every file fetched from loopback, nothing compiled) ${rows[4]!.ratio.toFixed(2)}x a bare loadPyodide() on a fresh profile. Load average ${loadBefore} before, ${load()} after.`,
    };
  } finally {
    await browser.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

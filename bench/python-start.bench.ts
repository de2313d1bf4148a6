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
import { fileSnapshotStore } from '../web/python/python-snapshot-node.ts';
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
    const gzipped = join(dir, 'remotemedia.snapshot.gz');
    const raw = join(dir, 'remotemedia.snapshot');
    // The first run keeps a snapshot: gzip'd (as shipped) and raw (as cached).
    const first = await firstBlock(files, [
      fileSnapshotStore(gzipped),
      fileSnapshotStore(raw, { raw: true }),
    ]);
    await first.kept;
    const bare: number[] = [];
    const plain: number[] = [];
    const fromGzipped: number[] = [];
    const fromRaw: number[] = [];
    const fromSnapshot = async (path: string) => {
      const start = await firstBlock(files, [fileSnapshotStore(path, { readOnly: true })]);
      if (start.from !== path) throw new Error(`the snapshot ${path} was not used`);
      return start.ms;
    };
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      await loadPyodide();
      bare.push(performance.now() - started);
      plain.push((await firstBlock(files)).ms);
      fromGzipped.push(await fromSnapshot(gzipped));
      fromRaw.push(await fromSnapshot(raw));
    }
    const base = row('', bare).p50;
    const rows = [
      row('bare loadPyodide() (baseline)', bare),
      row('plain start to the first block through a PythonNode (before)', plain, base),
      row("snapshot start to the first block, gzip'd file (as shipped)", fromGzipped, base),
      row('snapshot start to the first block, raw file (as cached)', fromRaw, base),
    ];
    return {
      unit: 'per cold start, Node (Pyodide in this process)',
      rows,
      note: `Snapshot start ${rows[2]!.ratio.toFixed(2)}x (gzip'd) and ${rows[3]!.ratio.toFixed(2)}x (raw) a bare loadPyodide() (goal: at most 0.3x); plain start ${rows[1]!.ratio.toFixed(2)}x. First run (plain start, then both snapshots kept): ${first.ms.toFixed(0)} ms to the first block. Load average ${loadBefore} before, ${load()} after.`,
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
export async function benchPythonStartChromium(): Promise<BenchTable> {
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
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'runPythonStartBench' in window);
    const results = (await page.evaluate(() =>
      (window as unknown as { runPythonStartBench: () => Promise<unknown> }).runPythonStartBench(),
    )) as ChromiumResults;
    const base = row('', results.bareMs).p50;
    const rows = [
      row('bare loadPyodide() on the page (baseline)', results.bareMs),
      row(
        "createRuntime() to the first block out of a PythonNode, first visit (shipped snapshot, gzip'd)",
        results.firstVisitMs,
        base,
      ),
      row('the same, later visits (its raw copy in IndexedDB)', results.cachedMs, base),
    ];
    return {
      unit: 'per cold start, Chromium (the prebuilt build, dist/browser/, on a static server on loopback)',
      rows,
      note: `Python worker cold start ${rows[2]!.ratio.toFixed(2)}x a bare loadPyodide() on later visits, ${rows[1]!.ratio.toFixed(2)}x on a first visit (goal: at most 0.3x). Load average ${loadBefore} before, ${load()} after.`,
    };
  } finally {
    await browser.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

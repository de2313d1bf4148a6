// Makes the Python memory snapshot that the build ships (dist/web/python/
// remotemedia.snapshot, gzip'd; the Vite plugin and dist/browser/ put it in the
// assets folder as python/remotemedia.snapshot): Pyodide with the same Python sources
// the worker bundles, imported, and the bridge registered. Made in Node with the
// same Pyodide build browsers run. Runs after scripts/finish-lib.mjs, from dist/.
import { rmSync, statSync } from 'node:fs';
import { loadPyodide, version } from 'pyodide';
import { PipelineRunner } from '../dist/web/core/internal.js';
import { startPythonRuntime } from '../dist/web/python/python-runtime.js';
import { BUILT_SNAPSHOT, fileSnapshotStore } from '../dist/web/python/python-snapshot-node.js';
import { pythonSources } from '../dist/web/python/python-sources.js';

const started = performance.now();
rmSync(BUILT_SNAPSHOT, { force: true });
const lines = [];
const runtime = await startPythonRuntime({
  load: (snapshot) => loadPyodide({ ...snapshot }),
  files: pythonSources,
  runner: new PipelineRunner(),
  snapshot: {
    pyodideVersion: version,
    stores: [fileSnapshotStore(BUILT_SNAPSHOT)],
    log: (l) => lines.push(l),
  },
});
await runtime.snapshotKept;
let size;
try {
  size = statSync(BUILT_SNAPSHOT).size;
} catch {
  console.error(`make-python-snapshot: no snapshot made:\n${lines.join('\n')}`);
  process.exit(1);
}
console.log(
  `python snapshot: ${BUILT_SNAPSHOT} ${(size / 2 ** 20).toFixed(1)} MiB (Pyodide ${version}, ${Object.keys(pythonSources).length} files) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
// Pyodide keeps Node's event loop alive.
process.exit(0);

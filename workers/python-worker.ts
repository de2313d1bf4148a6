/**
 * Python worker entry: one Pyodide with the remotemedia package, behind a
 * PythonHost on comlink. Pyodide loads from its own npm package's files (served by
 * our build); the package's sources are bundled into this worker.
 */
import { expose } from 'comlink';
import { loadPyodide } from 'pyodide';
import { PythonHost } from '../web/python/python-host.ts';
import { installErrorTransfer } from '../web/runtime/error-transfer.ts';

const sources = import.meta.glob('../python-packages/**/*.py', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const files = Object.fromEntries(
  Object.entries(sources)
    .filter(([path]) => !path.includes('/tests/'))
    .map(([path, text]) => [path.replace('../python-packages/', ''), text]),
);

installErrorTransfer();
// Served (development) and shipped (build) under pyodide/ by the Vite plugin
// (web/vite/vite-plugin.ts), in the app that embeds the runtime as in ours.
const indexURL = new URL(`${import.meta.env.BASE_URL}pyodide/`, self.location.href).href;
expose(new PythonHost(() => loadPyodide({ indexURL }), files));

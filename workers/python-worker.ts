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
// In development Pyodide finds its files beside its module in node_modules; a build
// ships them under pyodide/ (see vite.config.ts).
const indexURL = import.meta.env.DEV
  ? undefined
  : new URL(`${import.meta.env.BASE_URL}pyodide/`, self.location.href).href;
expose(new PythonHost(() => loadPyodide(indexURL ? { indexURL } : {}), files));

/**
 * The python-packages sources Pyodide gets, by path under python-packages/. From
 * sources, Vite bundles them into the Python worker; in dist this module is
 * replaced by the same files as string literals (scripts/finish-lib.mjs), so no
 * bundler needs Vite's import.meta.glob.
 */
const sources = import.meta.glob(
  '../../python-packages/{remotemedia,remotemedia_runtime}/**/*.py',
  {
    query: '?raw',
    import: 'default',
    eager: true,
  },
) as Record<string, string>;

export const pythonSources: Record<string, string> = Object.fromEntries(
  Object.entries(sources).map(([path, text]) => [path.replace('../../python-packages/', ''), text]),
);

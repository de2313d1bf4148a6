/**
 * A worker_threads script, bundled from TypeScript into one CommonJS text (a Worker
 * given `{ eval: true }` runs it): the Node stress tests of the rings run their
 * threads from it.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export async function bundleNodeWorker(entry: URL): Promise<string> {
  const built = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  return built.outputFiles[0]!.text;
}

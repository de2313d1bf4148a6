import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeData } from '../core/internal.ts';
import { resolveAssetsBase } from './assets.ts';
import { createRuntime, type Runtime } from './runtime.ts';

/**
 * Where the runtime finds its assets (assetsBase) and the embedder's node modules
 * (nodeModules), in Chromium with the real workers.
 */
const runtimes: Runtime[] = [];
afterAll(() => {
  for (const runtime of runtimes) runtime.dispose();
});

async function start(options: Parameters<typeof createRuntime>[0]): Promise<Runtime> {
  const runtime = await createRuntime(options);
  runtimes.push(runtime);
  return runtime;
}

const one = (nodeType: string) => ({
  version: 'v1' as const,
  metadata: { name: nodeType },
  nodes: [{ id: 'n', node_type: nodeType, params: {} }],
  connections: [],
});

/** An ES module file the worker can import, made on the page. */
function moduleUrl(source: string): string {
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

describe('assetsBase', () => {
  it('defaults to remotemedia-web/ beside the page', () => {
    expect(resolveAssetsBase(undefined)).toBe(new URL('remotemedia-web/', document.baseURI).href);
    expect(resolveAssetsBase('/elsewhere')).toBe(new URL('/elsewhere/', location.href).href);
  });

  it('is where the workers load onnxruntime and Pyodide from, and the error says so', async () => {
    const runtime = await start({ assetsBase: '/no-assets-here/' });
    const silence = RuntimeData.audio(new Float32Array(1600), 16000);
    await expect(runtime.run(one('SileroVAD'), [silence])).rejects.toThrow(
      /\/no-assets-here\/ort\/ort\.wasm\.bundle\.min\.mjs.*assetsBase/,
    );
    const source =
      'from remotemedia import Node\nclass A(Node):\n    def process(self, d):\n        return d';
    const python = {
      ...one('PythonNode'),
      nodes: [{ id: 'n', node_type: 'PythonNode', params: { source } }],
    };
    await expect(runtime.run(python, [RuntimeData.json(1)])).rejects.toThrow(
      /\/no-assets-here\/pyodide\/pyodide\.mjs.*assetsBase/,
    );
  });

  it('a base that is not a URL is a usage error saying what to give', async () => {
    await expect(createRuntime({ assetsBase: 'http://[' })).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('pyodide/, ort/ and silero/'),
    });
  });
});

describe('nodeModules', () => {
  it("run the module's nodes in the pipeline worker, off the main thread", async () => {
    const url = moduleUrl(`
      const params = { '~standard': { version: 1, vendor: 't', validate: (v) => ({ value: v ?? {} }) } };
      export default [{
        type: 'WhereAmI', params, accepts: ['json'],
        create: () => ({ process: (d) => ({ kind: 'json', value: { input: d.value, scope: globalThis.constructor.name } }) }),
      }];
    `);
    const runtime = await start({ nodeModules: [url] });
    expect(await runtime.nodeTypes()).toContain('WhereAmI');
    const out = await runtime.execute(one('WhereAmI'), RuntimeData.json(5));
    expect(out).toMatchObject({ value: { input: 5, scope: 'DedicatedWorkerGlobalScope' } });
    expect(globalThis.constructor.name).toBe('Window');
  });

  it('a module that does not export node definitions fails createRuntime, naming it', async () => {
    const url = moduleUrl('export const x = 1;');
    await expect(createRuntime({ nodeModules: [url] })).rejects.toThrow(
      /node module blob:.*exports no array of node definitions/,
    );
  });
});

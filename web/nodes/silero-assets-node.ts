/**
 * SileroVAD assets on Node (the CLI, the gateway, Node tests): the model files come
 * from the installed @ricky0123/vad-web package, onnxruntime-web's Node build runs
 * them. Nothing is fetched.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SileroAssets, SileroModel } from './silero-vad.ts';

const require = createRequire(import.meta.url);

export const nodeSileroAssets: SileroAssets = {
  async loadOrt() {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    return ort;
  },
  async loadModel(model: SileroModel) {
    const dist = join(dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist');
    return new Uint8Array(await readFile(join(dist, `silero_vad_${model}.onnx`)));
  },
};

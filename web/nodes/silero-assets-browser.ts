/**
 * SileroVAD assets in the browser: onnxruntime-web's wasm build and the Silero
 * models are loaded from the runtime's assets folder on our own origin (never a
 * CDN): `ort/` and `silero/` under the assets base (see web/runtime/assets.ts).
 * onnxruntime is imported at run time from that folder, so no bundler has to
 * handle its 14 MB wasm or its worker self-references.
 */
import type * as Ort from 'onnxruntime-web';
import type { SileroAssets, SileroModel } from './silero-vad.ts';

/** onnxruntime-web's wasm-only build (its one 14 MB runtime, not the 28 MB WebGPU one). */
export const ORT_MODULE = 'ort.wasm.bundle.min.mjs';

/**
 * `assetsBase` is read when a SileroVAD first loads, not when this is made: the
 * pipeline worker learns it from the page after it starts.
 */
export function browserSileroAssets(assetsBase: () => string): SileroAssets {
  return {
    async loadOrt() {
      const base = `${assetsBase()}ort/`;
      const url = `${base}${ORT_MODULE}`;
      let ort: typeof Ort;
      try {
        ort = (await import(/* webpackIgnore: true */ /* @vite-ignore */ url)) as typeof Ort;
      } catch (error) {
        throw new Error(
          `cannot load onnxruntime-web from ${url} (${error instanceof Error ? error.message : String(error)}): serve the runtime's assets folder there or pass createRuntime({ assetsBase })`,
          { cause: error },
        );
      }
      // Only the .wasm: its JS glue is inside the bundle module (a prefix would
      // make onnxruntime fetch a separate glue file).
      ort.env.wasm.wasmPaths = { wasm: `${base}ort-wasm-simd-threaded.wasm` };
      ort.env.wasm.numThreads = 1;
      return ort;
    },
    async loadModel(model: SileroModel) {
      const url = `${assetsBase()}silero/silero_vad_${model}.onnx`;
      const response = await fetch(url);
      if (!response.ok)
        throw new Error(
          `cannot load the Silero ${model} model: HTTP ${response.status} for ${url} (serve the runtime's assets folder there or pass createRuntime({ assetsBase }))`,
        );
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

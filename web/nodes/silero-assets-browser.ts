/**
 * SileroVAD assets in the browser: the model files and onnxruntime's wasm are
 * fetched from our own server (never a CDN): web/vite/vite-plugin.ts serves
 * them in development and ships them in a build, at the same paths.
 */
import type { SileroAssets, SileroModel } from './silero-vad.ts';

export interface BrowserSileroAssetOptions {
  /** Where silero_vad_*.onnx are served; default: `silero/` under the app's base (the Vite plugin serves and ships them there). */
  modelBase?: string;
  /**
   * Where onnxruntime-web's .wasm files are served. By default the bundler's URL for
   * them is used (Vite emits ort-wasm-simd-threaded.wasm with the worker).
   */
  ortBase?: string;
}

export function browserSileroAssets(options: BrowserSileroAssetOptions = {}): SileroAssets {
  const modelBase = options.modelBase ?? `${import.meta.env.BASE_URL}silero/`;
  return {
    async loadOrt() {
      // The wasm-only build: its single 14 MB runtime, not the 28 MB WebGPU one.
      const ort = await import('onnxruntime-web/wasm');
      if (options.ortBase) ort.env.wasm.wasmPaths = options.ortBase;
      ort.env.wasm.numThreads = 1;
      return ort;
    },
    async loadModel(model: SileroModel) {
      const response = await fetch(`${modelBase}silero_vad_${model}.onnx`);
      if (!response.ok)
        throw new Error(
          `cannot load the Silero ${model} model: HTTP ${response.status} for ${response.url}`,
        );
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

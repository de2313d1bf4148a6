import { remotemediaWeb } from 'remotemedia-web/vite';
import { defineConfig } from 'vite';

// The one line an app adds: the runtime's assets folder (Pyodide, onnxruntime's
// wasm, the Silero models) served and shipped under remotemedia-web/, and the
// COOP/COEP headers SharedArrayBuffer needs. The workers Vite emits by itself.
export default defineConfig({ plugins: [remotemediaWeb()] });

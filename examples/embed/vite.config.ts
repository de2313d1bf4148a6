import { remotemediaWeb } from 'remotemedia-web/vite';
import { defineConfig } from 'vite';

// The one line an app adds: the runtime's workers, Pyodide, the Silero models and
// the COOP/COEP headers SharedArrayBuffer needs.
export default defineConfig({ plugins: [remotemediaWeb()] });

import { resolve } from 'node:path';

export default {
  mode: 'production',
  entry: './main.js',
  // ES-module output: the runtime's workers must be module workers (Pyodide runs in no other).
  experiments: { outputModule: true },
  output: {
    path: resolve(import.meta.dirname, 'dist'),
    filename: 'main.js',
    module: true,
    clean: true,
  },
  performance: { hints: false },
};

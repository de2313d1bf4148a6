// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const coreOnly = 'web/core runs unchanged in Workers, Node and the gateway';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-app/',
      'examples/embed/dist/',
      'examples/embed/node_modules/',
      'node_modules/',
      'test-results/',
      'python-packages/',
      'wasm-nodes/',
      '**/*.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // Ambient declarations of globals must use `declare var`.
  { files: ['**/*.d.ts'], rules: { 'no-var': 'off' } },
  {
    // The core's platform boundary: no DOM, no Node built-ins, no worker globals.
    files: ['web/core/**/*.ts'],
    ignores: ['web/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: `${coreOnly}: no Node built-ins.` },
            {
              group: ['fs', 'path', 'os', 'child_process', 'worker_threads', 'ws', 'comlink'],
              message: `${coreOnly}.`,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'location'].map((name) => ({
          name,
          message: `${coreOnly}: no DOM.`,
        })),
        ...['self', 'postMessage', 'importScripts'].map((name) => ({
          name,
          message: `${coreOnly}: no worker globals.`,
        })),
        ...['process', 'Buffer', 'require', '__dirname'].map((name) => ({
          name,
          message: `${coreOnly}: no Node globals.`,
        })),
      ],
    },
  },
);

/**
 * Docs as tests: every fenced code block of the user-facing docs runs exactly as
 * written, in order, in a workspace of its doc (doc-workspace.ts):
 * - sh/bash/shell: one bash script (set -euo pipefail); the outputs a block shows
 *   as `# ` lines under a command must be what it prints (shell-transcript.ts);
 * - ts/js: through tsx, where `remotemedia-web` resolves to this checkout's build;
 * - python: /usr/bin/python3 with PYTHONPATH=python-packages, top-level await allowed;
 * - json: must parse; a manifest must also pass `remotemedia validate`;
 * - text: an output sample, listed as not run.
 * A block that cannot run here says so in the doc, right before its fence
 * (markdown-blocks.ts): skips are listed below with their reasons, servers run in
 * the background until the doc's last block, and a block of any other language
 * must carry a marker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  BLOCK_TIMEOUT_MS,
  CLI,
  RUNNERS,
  startBackground,
  TEXT,
  writeFile,
} from './block-runners.ts';
import { makeWorkspace, removeWorkspace, REPO, type WorkspaceKind } from './doc-workspace.ts';
import { codeBlocks } from './markdown-blocks.ts';

const DOCS: { file: string; workspace: WorkspaceKind }[] = [
  { file: 'README.md', workspace: 'checkout' },
  { file: 'docs/embedding.md', workspace: 'project' },
  { file: 'docs/gateway.md', workspace: 'checkout' },
  { file: 'docs/manifest.md', workspace: 'checkout' },
  { file: 'docs/python.md', workspace: 'checkout' },
  { file: 'docs/runtime.md', workspace: 'checkout' },
  { file: 'python-packages/README.md', workspace: 'checkout' },
];

const skipped: string[] = [];

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build:lib" first`);
});

afterAll(() => {
  // The list a reviewer reads: every block the docs show that no test runs, and why.
  console.log(
    `doc blocks not run (${skipped.length}):\n${skipped.map((s) => `  ${s}`).join('\n')}`,
  );
});

for (const { file, workspace: kind } of DOCS) {
  const blocks = codeBlocks(readFileSync(join(REPO, file), 'utf8'), file);
  describe(file, () => {
    let workspace = '';
    const servers: (() => void)[] = [];
    beforeAll(() => {
      workspace = makeWorkspace(kind, file);
    });
    afterAll(() => {
      for (const stop of servers) stop();
      removeWorkspace(workspace);
    });

    for (const block of blocks) {
      const title = `${file}:${block.line} (${block.lang || 'no language'})`;
      const marker = block.marker;
      if (!marker && TEXT.has(block.lang)) {
        skipped.push(`${title}: text, not code`);
        it.skip(`${title} — not run: text, not code`, () => {});
      } else if (marker?.kind === 'skip' || marker?.kind === 'browser') {
        const why = marker.kind === 'browser' ? `browser: ${marker.reason}` : marker.reason;
        skipped.push(`${title}: ${why}`);
        it.skip(`${title} — not run: ${why}`, () => {});
      } else if (marker?.kind === 'background') {
        it(
          `${title} starts in the background and prints "${marker.ready}"`,
          async () => {
            const server = startBackground(block, workspace, marker.ready);
            servers.push(server.stop);
            await server.started;
          },
          BLOCK_TIMEOUT_MS,
        );
      } else if (marker?.kind === 'file') {
        it(`${title} is written as ${marker.path}`, () => writeFile(block, workspace, marker.path));
      } else {
        const runner = RUNNERS[block.lang];
        it(
          `${title} runs as written`,
          async () => {
            if (!runner) {
              throw new Error(
                `${title}: a '${block.lang}' block cannot be run; mark it <!-- doc-test: skip (why) -->, <!-- doc-test: browser --> or <!-- doc-test: file <path> -->`,
              );
            }
            await runner(block, workspace, file);
          },
          BLOCK_TIMEOUT_MS,
        );
      }
    }
  });
}

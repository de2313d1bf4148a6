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
 * (markdown-blocks.ts): skips are listed below with their reasons, and a block of
 * any other language must carry a marker.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, removeWorkspace, REPO, type WorkspaceKind } from './doc-workspace.ts';
import { type CodeBlock, codeBlocks } from './markdown-blocks.ts';
import { mismatch, outputsOf, parseTranscript, transcriptScript } from './shell-transcript.ts';

const DOCS: { file: string; workspace: WorkspaceKind }[] = [
  { file: 'README.md', workspace: 'checkout' },
  { file: 'docs/embedding.md', workspace: 'project' },
  { file: 'docs/gateway.md', workspace: 'checkout' },
  { file: 'python-packages/README.md', workspace: 'checkout' },
];

const BLOCK_TIMEOUT_MS = 180_000;
/** Runs a Python block as `python3 -m asyncio` would: top-level `await` is allowed. */
const PYTHON_MAIN = [
  'import ast, asyncio, sys',
  'path = sys.argv[1]',
  "code = compile(open(path).read(), path, 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)",
  "result = eval(code, {'__name__': '__main__', '__file__': path})",
  'if asyncio.iscoroutine(result): asyncio.run(result)',
].join('\n');
/** Output samples and the like: shown to the reader, never code to run. */
const TEXT = new Set(['text', 'txt', 'output']);
const CLI = join(REPO, 'dist/web/cli/remotemedia.js');
const skipped: string[] = [];

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in its own process group, which is ended afterwards (a block may start servers). */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string) {
  return new Promise<Ran>((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n[doc-test: killed after ${BLOCK_TIMEOUT_MS} ms]`;
      killGroup();
    }, BLOCK_TIMEOUT_MS - 5000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      killGroup();
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

function blockEnv(workspace: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The workspace has this checkout linked in as remotemedia-web: a block that
    // installs from the registry fails (ENOTCACHED) rather than fetch a stranger's package.
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    PATH: `${join(workspace, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  };
}

async function runShell(block: CodeBlock, workspace: string): Promise<void> {
  const commands = parseTranscript(block.code);
  const result = await run(
    'bash',
    ['-c', transcriptScript(commands)],
    workspace,
    blockEnv(workspace),
  );
  const outputs = outputsOf(`\n${result.stdout}`);
  const failed = Math.max(-1, ...outputs.keys());
  expect(
    result.status,
    `exit ${result.status} in: ${commands[failed]?.text ?? '?'}\n${result.stderr}${result.stdout}`,
  ).toBe(0);
  commands.forEach((command, i) => {
    if (!command.expected) return;
    const problem = mismatch(command.expected, outputs.get(i) ?? []);
    expect(problem, `${command.text}\n${problem}`).toBeUndefined();
  });
}

async function runScript(block: CodeBlock, workspace: string, doc: string): Promise<void> {
  const python = block.lang === 'python' || block.lang === 'py';
  const name = `doc-block-${doc.replace(/\W+/g, '-')}-${block.line}.${python ? 'py' : block.lang === 'js' || block.lang === 'javascript' ? 'mjs' : 'ts'}`;
  writeFileSync(join(workspace, name), block.code);
  const env = blockEnv(workspace);
  const result = python
    ? await run('/usr/bin/python3', ['-c', PYTHON_MAIN, name], workspace, {
        ...env,
        PYTHONPATH: join(REPO, 'python-packages'),
      })
    : await run(join(workspace, 'node_modules', '.bin', 'tsx'), [name], workspace, env);
  expect(result.status, `${name} failed:\n${result.stderr}${result.stdout}`).toBe(0);
}

async function checkJson(block: CodeBlock, workspace: string, doc: string): Promise<void> {
  let value: unknown;
  expect(() => (value = JSON.parse(block.code))).not.toThrow();
  const manifest = value as { version?: unknown; nodes?: unknown };
  if (manifest && typeof manifest === 'object' && 'nodes' in manifest && 'version' in manifest) {
    const file = join(workspace, `doc-manifest-${doc.replace(/\W+/g, '-')}-${block.line}.json`);
    writeFileSync(file, block.code);
    const result = await run(process.execPath, [CLI, 'validate', file], workspace, process.env);
    expect(result.status, result.stderr).toBe(0);
  }
}

function writeFile(block: CodeBlock, workspace: string, path: string): void {
  const target = join(workspace, path);
  // Never write through a link into the checkout.
  if (existsSync(target) && lstatSync(target).isSymbolicLink()) unlinkSync(target);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, block.code);
}

const RUNNERS: Record<string, (block: CodeBlock, workspace: string, doc: string) => Promise<void>> =
  {
    sh: runShell,
    bash: runShell,
    shell: runShell,
    ts: runScript,
    typescript: runScript,
    js: runScript,
    javascript: runScript,
    python: runScript,
    py: runScript,
    json: checkJson,
  };

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
    beforeAll(() => {
      workspace = makeWorkspace(kind, file);
    });
    afterAll(() => removeWorkspace(workspace));

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

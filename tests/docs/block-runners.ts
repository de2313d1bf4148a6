/**
 * How each kind of doc block runs (see doc-code-blocks.test.ts): shell transcripts,
 * TypeScript through tsx, Python, JSON, files written into the workspace, and
 * servers kept running in the background. Every process gets its own process
 * group, ended when its block (or, for a server, its doc) is done.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { REPO } from './doc-workspace.ts';
import type { CodeBlock } from './markdown-blocks.ts';
import { mismatch, outputsOf, parseTranscript, transcriptScript } from './shell-transcript.ts';

export const BLOCK_TIMEOUT_MS = 180_000;
/** Runs a Python block as `python3 -m asyncio` would: top-level `await` is allowed. */
const PYTHON_MAIN = [
  'import ast, asyncio, sys',
  'path = sys.argv[1]',
  "code = compile(open(path).read(), path, 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)",
  "result = eval(code, {'__name__': '__main__', '__file__': path})",
  'if asyncio.iscoroutine(result): asyncio.run(result)',
].join('\n');
/** Output samples and the like: shown to the reader, never code to run. */
export const TEXT = new Set(['text', 'txt', 'output']);
export const CLI = join(REPO, 'dist/web/cli/remotemedia.js');

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
    // What a reader of docs/gateway.md has in the environment of the gateway's host.
    REMOTEMEDIA_GATEWAY_TOKEN_SECRET: 'doc-test-secret-of-more-than-32-characters',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    PATH: `${join(workspace, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  };
}

export async function runShell(block: CodeBlock, workspace: string): Promise<void> {
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

/**
 * Starts a block that runs for ever (a server) in its own process group and
 * resolves once it has printed `ready`; the returned function ends the group.
 */
export function startBackground(block: CodeBlock, workspace: string, ready: string) {
  const child = spawn('bash', ['-c', `set -euo pipefail\n${block.code}`], {
    cwd: workspace,
    env: blockEnv(workspace),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  let printed = '';
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      printed += chunk.toString('utf8');
      if (printed.includes(ready)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      reject(
        new Error(`exited (${signal ?? `code ${code}`}) before printing "${ready}":\n${printed}`),
      ),
    );
  });
  return { started, stop };
}

export function writeFile(block: CodeBlock, workspace: string, path: string): void {
  const target = join(workspace, path);
  // Never write through a link into the checkout.
  if (existsSync(target) && lstatSync(target).isSymbolicLink()) unlinkSync(target);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, block.code);
}

export const RUNNERS: Record<
  string,
  (block: CodeBlock, workspace: string, doc: string) => Promise<void>
> = {
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

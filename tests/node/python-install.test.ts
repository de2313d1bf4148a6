import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';

/**
 * The Python package as a user installs it: the install lines of
 * python-packages/README.md, run as written by bash in a directory outside the
 * repository (a fresh venv of Debian's python3, pip with no index), then the
 * original SDK's examples (python-packages/examples/original, copied unmodified from
 * its notes) run with the installed package — on the pure-Python fallback, and on a
 * real gateway named by REMOTEMEDIA_GATEWAY_URL — each saying which path ran.
 */
const run = promisify(execFile);
const README = 'python-packages/README.md';
const token = 'python-install-token-0123';
const work = mkdtempSync(join(tmpdir(), 'python-install-'));
let gateway: Gateway;

/** The first sh block of the README's "Installing" section. */
function installLines(): string {
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('## Installing'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`${README} has no sh block under "## Installing"`);
  return block[1]!;
}

/** The log line the README shows for the fallback. */
function readmeLogLine(): string {
  const readme = readFileSync(README, 'utf8');
  return /```text\n(INFO:remotemedia\.pipeline:[^\n]*)\n```/.exec(readme)![1]!;
}

/**
 * The environment of a plain machine: this one's pip settings (local wheel
 * directories, indexes) and PYTHONPATH would hide what a user without them sees.
 */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PIP_') && !key.startsWith('PYTHON') && !key.startsWith('REMOTEMEDIA_')) {
      env[key] = value;
    }
  }
  return { ...env, PIP_CONFIG_FILE: '/dev/null', ...extra };
}

async function example(name: string, extra: Record<string, string> = {}) {
  return run(
    join(work, '.venv/bin/python'),
    [join(work, 'examples/run.py'), join(work, `examples/${name}`)],
    { cwd: work, env: plainEnv(extra) },
  );
}

beforeAll(async () => {
  // What the user has: the repository's python-packages (its sources only).
  cpSync('python-packages', join(work, 'python-packages'), {
    recursive: true,
    filter: (src) => !/__pycache__|\.egg-info|[/\\]build$/.test(src),
  });
  cpSync('python-packages/examples/original', join(work, 'examples'), { recursive: true });
  gateway = await startGateway({ port: 0, tokens: [token] });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('installing the remotemedia Python package', () => {
  it('installs into a fresh venv with the README’s lines, offline', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', installLines()], {
      cwd: work,
      env: plainEnv(),
    });
    expect(stdout).toMatch(/Successfully installed remotemedia-0\.1\.0/);
    // The installed copy is what runs, not the sources beside it.
    const { stdout: where } = await run(
      join(work, '.venv/bin/python'),
      ['-c', 'import remotemedia, remotemedia_runtime, websockets; print(remotemedia.__file__)'],
      { cwd: join(work, 'examples'), env: plainEnv() },
    );
    expect(where.trim().startsWith(join(work, '.venv/lib/'))).toBe(true);
    expect(where.trim()).toMatch(/python3\.\d+\/site-packages\/remotemedia\/__init__\.py$/);
  }, 120_000);

  it('runs the original Pipeline example: [6, 7, 8], and logs the fallback and why', async () => {
    const { stdout, stderr } = await example('pipeline_run.py');
    expect(stdout).toBe('[6, 7, 8]\n');
    expect(stderr).toContain(readmeLogLine());
  });

  it('runs it on a gateway named by REMOTEMEDIA_GATEWAY_URL, and logs that path', async () => {
    const url = `ws://127.0.0.1:${gateway.port}`;
    const { stdout, stderr } = await example('pipeline_run.py', {
      REMOTEMEDIA_GATEWAY_URL: url,
      REMOTEMEDIA_GATEWAY_TOKEN: token,
    });
    expect(stdout).toBe('[6, 7, 8]\n');
    expect(stderr).toContain(
      `INFO:remotemedia.pipeline:pipeline 'test': the runtime ran it (gateway ${url})`,
    );
    expect(stderr).not.toContain('pure-Python');
  });

  it('runs the basic usage, the use_rust=False switch and the quick start', async () => {
    const basic = await example('basic_usage.py');
    expect(basic.stdout).toBe('[1, 2, 3, 4, 5]\n');
    expect(basic.stderr).toContain(
      "pipeline 'my_pipeline': running on the pure-Python executor, because use_rust=False",
    );
    expect((await example('quick_start.py')).stdout).toBe('[1, 2, 3, 4, 5]\n');
  });

  it('runs the source pipeline with the installed remotemedia.nodes.audio, here and on a gateway', async () => {
    const here = await example('source_pipeline.py');
    expect(here.stderr).toContain(
      "pipeline 'source_pipeline': running on the pure-Python executor",
    );
    const there = await example('source_pipeline.py', {
      REMOTEMEDIA_GATEWAY_URL: `ws://127.0.0.1:${gateway.port}`,
      REMOTEMEDIA_GATEWAY_TOKEN: token,
    });
    expect(there.stderr).toContain("pipeline 'source_pipeline': the runtime ran it");
  });

  it('runs the direct remotemedia_runtime example on a gateway, and says plainly what is missing without one', async () => {
    const { stdout } = await example('direct_ffi.py', {
      REMOTEMEDIA_GATEWAY_URL: `ws://127.0.0.1:${gateway.port}`,
      REMOTEMEDIA_GATEWAY_TOKEN: token,
    });
    expect(stdout).toBe('[1, 2, 3, 4, 5]\n');
    const failed = await example('direct_ffi.py').catch((error: { stderr: string }) => error);
    expect((failed as { stderr: string }).stderr).toMatch(
      /RuntimeError: no RemoteMedia runtime in this interpreter: under CPython set REMOTEMEDIA_GATEWAY_URL/,
    );
  });

  it('answers the original’s version and availability checks', async () => {
    const python = join(work, '.venv/bin/python');
    const check = (code: string, extra: Record<string, string> = {}) =>
      run(python, ['-c', code], { cwd: work, env: plainEnv(extra) }).then((r) => r.stdout);
    expect(await check('import remotemedia_runtime; print(remotemedia_runtime.__version__)')).toBe(
      '0.1.0\n',
    );
    expect(
      await check('import remotemedia_runtime; print(remotemedia_runtime.is_available())'),
    ).toBe('False\n');
    expect(
      await check('import remotemedia_runtime; print(remotemedia_runtime.is_available())', {
        REMOTEMEDIA_GATEWAY_URL: `ws://127.0.0.1:${gateway.port}`,
      }),
    ).toBe('True\n');
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadPyodide } from 'pyodide';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';
import { PipelineRunner } from '../../web/core/internal.ts';
import { PACKAGE_ROOT, startPythonRuntime } from '../../web/python/python-runtime.ts';
import { pythonPackageFiles } from '../python-files.ts';

/**
 * One suite (python-packages/tests) under Debian's CPython and inside Pyodide in
 * Node, where remotemedia_runtime reaches the TypeScript core: the same tests take
 * the runtime path there and the fallback here.
 */
describe('the remotemedia Python package', () => {
  let cpythonPassed = 0;
  // The remote-execution tests talk to a real gateway on loopback.
  let gateway: Gateway;
  let pickling: Gateway;
  const token = 'python-suite-token-0123';
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, tokens: [token] });
    pickling = await startGateway({ port: 0, tokens: [token], allowPickle: true });
  });
  afterAll(async () => {
    await gateway?.close();
    await pickling?.close();
  });

  it('passes its suite under CPython (/usr/bin/python3), remote tests included', async () => {
    const { stdout: out } = await promisify(execFile)(
      '/usr/bin/python3',
      ['python-packages/tests/run.py'],
      {
        env: {
          ...process.env,
          REMOTEMEDIA_TEST_GATEWAY: `127.0.0.1:${gateway.port}:${token}`,
          REMOTEMEDIA_TEST_PICKLE_GATEWAY: `127.0.0.1:${pickling.port}:${token}`,
        },
      },
    );
    const match = /python (\S+): (\d+) passed, (\d+) failed, (\d+) skipped/.exec(out);
    expect(match, out).not.toBeNull();
    expect(Number(match![3])).toBe(0);
    expect(Number(match![4])).toBe(0);
    cpythonPassed = Number(match![2]);
    expect(cpythonPassed).toBeGreaterThanOrEqual(20);
    // A hang detector: the suite takes about 20 s alone, longer beside other tests on 2 cores.
  }, 120_000);

  it('passes the same suite inside Pyodide, on the runtime path', async () => {
    const { pyodide, startupMs } = await startPythonRuntime({
      load: () => loadPyodide(),
      files: pythonPackageFiles(),
      runner: new PipelineRunner(),
    });
    console.log(`Pyodide ${pyodide.version} ready in ${startupMs.toFixed(0)} ms`);
    const summary = (
      await pyodide.runPythonAsync(
        `from tests.run import run_tests\nawait run_tests(${JSON.stringify(`${PACKAGE_ROOT}/tests`)})`,
      )
    ).toJs({ dict_converter: Object.fromEntries }) as {
      passed: string[];
      failed: string[];
      skipped: string[];
      python: string;
    };
    expect(summary.failed).toEqual([]);
    expect(summary.python).toMatch(/^3\.1[3-9]/);
    // Only what needs processes or a WebSocket is skipped in Pyodide in Node, with
    // reasons (the remote tests run in Chromium: python-worker.browser.test.ts).
    // The node runner's tests (6) start CPython processes.
    expect(summary.skipped).toHaveLength(20);
    expect(
      summary.skipped.filter((s) => s.includes('Pyodide cannot start processes')),
    ).toHaveLength(6);
    expect(summary.skipped.filter((s) => s.includes('Node 20 has none'))).toHaveLength(14);
    expect(summary.passed.length + summary.skipped.length).toBe(cpythonPassed);
    // The runtime path really ran: the bridge answers from inside Python.
    expect(
      await pyodide.runPythonAsync(
        'import remotemedia_runtime\nremotemedia_runtime.is_available() and remotemedia_runtime.get_runtime_version()',
      ),
    ).toBe('0.1.0');
  }, 120_000);
});

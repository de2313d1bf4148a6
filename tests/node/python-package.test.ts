import { execFileSync } from 'node:child_process';
import { loadPyodide } from 'pyodide';
import { describe, expect, it } from 'vitest';
import { PipelineRunner } from '../../web/core/index.ts';
import { PACKAGE_ROOT, startPythonRuntime } from '../../web/python/python-runtime.ts';
import { pythonPackageFiles } from '../python-files.ts';

/**
 * One suite (python-packages/tests) under Debian's CPython and inside Pyodide in
 * Node, where remotemedia_runtime reaches the TypeScript core: the same tests take
 * the runtime path there and the fallback here.
 */
describe('the remotemedia Python package', () => {
  let cpythonPassed = 0;

  it('passes its suite under CPython (/usr/bin/python3)', () => {
    const out = execFileSync('/usr/bin/python3', ['python-packages/tests/run.py'], {
      encoding: 'utf8',
    });
    const match = /python (\S+): (\d+) passed, (\d+) failed, (\d+) skipped/.exec(out);
    expect(match, out).not.toBeNull();
    expect(Number(match![3])).toBe(0);
    expect(Number(match![4])).toBe(0);
    cpythonPassed = Number(match![2]);
    expect(cpythonPassed).toBeGreaterThanOrEqual(20);
  });

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
    // Only what needs processes is skipped in Pyodide, each with its reason.
    expect(summary.skipped).toEqual([expect.stringContaining('Pyodide cannot start processes')]);
    expect(summary.passed.length + summary.skipped.length).toBe(cpythonPassed);
    // The runtime path really ran: the bridge answers from inside Python.
    expect(
      await pyodide.runPythonAsync(
        'import remotemedia_runtime\nremotemedia_runtime.is_available() and remotemedia_runtime.get_runtime_version()',
      ),
    ).toBe('0.1.0');
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

/** The built `remotemedia` bin, as users run it (npm test builds before it tests). */
const BIN = 'dist/web/cli/remotemedia.js';

function cli(args: string[], stdin?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { input: stdin, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('remotemedia CLI', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build:lib" first`);
  });

  it("runs the original's one-node manifest unmodified", () => {
    const { status, stdout } = cli([
      'run',
      'examples/manifests/passthrough.json',
      '--input',
      '[1,2,3,4,5]',
    ]);
    expect(status).toBe(0);
    expect(lines(stdout)).toEqual(
      [1, 2, 3, 4, 5].map((value) => ({ node: 'pass1', kind: 'json', value })),
    );
  });

  it('runs the 3-node pipeline: [1, 2, 3] gives [6, 7, 8]', () => {
    const { status, stdout } = cli(['run', 'examples/manifests/calculator.json', '-i', '[1,2,3]']);
    expect(status).toBe(0);
    expect(lines(stdout).map((l) => l.value)).toEqual([6, 7, 8]);
  });

  it('streams JSON lines from stdin with --input -', () => {
    const { status, stdout } = cli(
      ['run', 'examples/manifests/calculator.json', '--input', '-'],
      '10\n\n20\n',
    );
    expect(status).toBe(0);
    expect(lines(stdout).map((l) => l.value)).toEqual([15, 25]);
  });

  it('reports every manifest problem on stderr with exit 1', () => {
    const { status, stdout, stderr } = cli(['run', 'package.json']);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('version: found "0.1.0"; this runtime reads version "v1"');
    expect(stderr).toContain('nodes: ');
  });

  it('reports a failing node with its id and exit 1, after the outputs before it', () => {
    const { status, stdout, stderr } = cli([
      'run',
      'examples/manifests/calculator.json',
      '--input',
      '[1, "x"]',
    ]);
    expect(status).toBe(1);
    expect(lines(stdout).map((l) => l.value)).toEqual([6]);
    expect(stderr).toContain("[node_failed] Node 'calc' failed: Calculator expects a JSON number");
  });

  it('reports a bad stdin line by its number, exit 1', () => {
    const { status, stderr } = cli(
      ['run', 'examples/manifests/calculator.json', '--input', '-'],
      '1\n{bad\n',
    );
    expect(status).toBe(1);
    expect(stderr).toContain('stdin line 2 is not JSON');
  });

  it('validates without running, and lists node types', () => {
    expect(cli(['validate', 'examples/manifests/calculator.json'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('valid (3 nodes)'),
    });
    expect(cli(['nodes']).stdout).toContain('Calculator (also: CalculatorNode)');
  });

  it('answers a wrong call with usage and exit 2', () => {
    const { status, stderr } = cli(['frobnicate']);
    expect(status).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
    expect(stderr).toContain('Usage:');
  });
});

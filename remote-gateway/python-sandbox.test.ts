import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeOrphanedCopies, sandboxedCommand } from './python-sandbox.ts';

const work = mkdtempSync(join(tmpdir(), 'sandbox-copies-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A pid that surely ran and ended. */
function deadPid(): number {
  const child = spawnSync('/bin/sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('copies of folders the sandbox cannot reach', () => {
  it('bind a readable copy named for this process, with the same files', () => {
    const hidden = mkdtempSync(join(work, 'hidden-')); // mkdtemp makes it 0700
    mkdirSync(join(hidden, 'pkg'));
    writeFileSync(join(hidden, 'pkg', 'mod.py'), 'X = 1\n');
    const command = sandboxedCommand({
      file: '/usr/bin/python3',
      args: [],
      env: { PYTHONPATH: hidden },
      callTimeoutMs: 1000,
      label: 'the Python process',
    });
    const at = command.args.lastIndexOf(hidden); // the bind target, after --setenv PYTHONPATH
    const source = command.args[at - 1]!;
    expect(command.args[at - 2]).toBe('--ro-bind');
    expect(source).not.toBe(hidden);
    expect(source.startsWith(join(tmpdir(), `remotemedia-sandbox-${process.pid}-`))).toBe(true);
    expect(readFileSync(join(source, 'pkg', 'mod.py'), 'utf8')).toBe('X = 1\n');
    expect(statSync(source).mode & 0o005).toBe(0o005);
  });

  it('left by a process that is gone are removed; a running owner keeps its own', () => {
    const gone = join(work, `remotemedia-sandbox-${deadPid()}-abc`);
    const mine = join(work, `remotemedia-sandbox-${process.pid}-def`);
    const other = join(work, 'remotemedia-sandboxes-of-someone');
    for (const folder of [gone, mine, other]) mkdirSync(join(folder, 'bound'), { recursive: true });
    expect(removeOrphanedCopies(work)).toEqual([gone.slice(work.length + 1)]);
    expect([existsSync(gone), existsSync(mine), existsSync(other)]).toEqual([false, true, true]);
  });
});

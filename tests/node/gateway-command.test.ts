/**
 * The gateway command's flags and their documentation agree: every flag
 * `remotemedia-gateway --help` lists (each with its REMOTEMEDIA_GATEWAY_ variable)
 * is in docs/gateway.md, and every flag the doc names exists. Mistakes and a
 * gateway that cannot start are one line each, never a stack trace.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../remote-gateway/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

async function helpFlags(): Promise<Map<string, string>> {
  const { stdout } = await exec('node', ['--import', 'tsx', 'remote-gateway/main.ts', '--help'], {
    cwd: ROOT,
  });
  const flags = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^ {2}--([a-z-]+)\b.*?\s(REMOTEMEDIA_GATEWAY_\w+)\s/.exec(line);
    if (match) flags.set(match[1]!, match[2]!);
  }
  return flags;
}

describe('remotemedia-gateway flags', () => {
  it('--help gives each flag the variable named by the rule', async () => {
    const flags = await helpFlags();
    expect(flags.size).toBeGreaterThan(10);
    for (const [flag, variable] of flags) {
      expect(variable).toBe(`REMOTEMEDIA_GATEWAY_${flag.toUpperCase().replaceAll('-', '_')}`);
    }
  });

  it('docs/gateway.md documents exactly the flags the command has', async () => {
    const flags = await helpFlags();
    const doc = readFileSync(join(ROOT, 'docs/gateway.md'), 'utf8');
    // The flag tables' first column: `--flag`, or two flags in one row.
    const documented = new Set<string>();
    for (const row of doc.split('\n').filter((line) => line.startsWith('| `--'))) {
      const cell = row.split('|')[1]!;
      for (const [, flag] of cell.matchAll(/`--([a-z-]+)`/g)) documented.add(flag!);
    }
    expect([...documented].sort()).toEqual([...flags.keys()].sort());
  });

  it('a bad value is one line and exit 2; a port in use is one line and exit 1', async () => {
    const gateway = (...args: string[]) =>
      exec('node', ['--import', 'tsx', 'remote-gateway/main.ts', ...args], { cwd: ROOT }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
    const badPort = await gateway('--port', 'eighty');
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim().split('\n')).toEqual([
      'remotemedia-gateway: --port "eighty": expected a whole number >= 0 (see --help)',
    ]);

    const taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening));
    try {
      const { port } = taken.address() as { port: number };
      const inUse = await gateway('--port', String(port), '--token', 'a-static-token');
      expect(inUse.code).toBe(1);
      expect(inUse.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^remotemedia-gateway: cannot start: .*EADDRINUSE/),
      ]);
    } finally {
      taken.close();
    }
  });

  it('/healthz answers what docs/gateway.md shows', async () => {
    const doc = readFileSync(join(ROOT, 'docs/gateway.md'), 'utf8');
    const shown = /`(\{"ok": true, "protocol": \d+, "sessions": n\})`/.exec(doc);
    expect(shown, 'docs/gateway.md shows the /healthz answer').not.toBeNull();
    const gateway = await startGateway({ port: 0, tokens: ['healthz-doc-token'] });
    try {
      const url = new URL(gateway.url);
      const answer = (await (await fetch(`http://${url.host}/healthz`)).json()) as object;
      expect(answer).toEqual(JSON.parse(shown![1]!.replace('"sessions": n', '"sessions": 0')));
    } finally {
      await gateway.close();
    }
  });
});

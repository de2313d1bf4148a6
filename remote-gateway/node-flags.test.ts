/**
 * The gateway process's Node flags (node-flags.ts): every launcher passes them, and
 * they do what they are there for: a process that promotes garbage steadily, as a
 * gateway under load does, runs no mark-compact below the floor, where the same
 * process started without them runs several.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from './node-flags.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/**
 * A child that keeps a ring of 100 000 small objects (about 6 MB), replacing them in
 * turn: each lives through two scavenges, is promoted, then dies in the old
 * generation; about 90 MB in all (2 mark-compacts without the floor, here). Prints
 * the mark-compacts it ran.
 */
const PROMOTER = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
let markCompacts = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) markCompacts++;
  }
}).observe({ entryTypes: ['gc'] });
const ring = new Array(100000);
for (let i = 0; i < 1500000; i++) ring[i % ring.length] = { a: i, b: [i, i + 1, i + 2, i + 3] };
setTimeout(() => console.log(JSON.stringify({ markCompacts })), 50);
`;

function markCompacts(flags: readonly string[]): number {
  const run = spawnSync(process.execPath, [...flags, '-e', PROMOTER], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { markCompacts: number }).markCompacts;
}

describe("the gateway process's Node flags", () => {
  it('are passed by npm run gateway, npm start, the remotemedia-gateway command and gateway:cluster', () => {
    const flags = GATEWAY_NODE_FLAGS.join(' ');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.gateway).toBe(`node ${flags} --import tsx remote-gateway/main.ts`);
    // The command's shebang is plain (BusyBox's env has no -S): main.ts starts itself
    // again with the flags (attack-node-flags.test.ts runs that).
    expect(read('remote-gateway/main.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
    // npm start's gateway (scripts/serve-demo.sh).
    expect(read('scripts/serve-demo.sh')).toContain(
      `node ${flags} --import tsx remote-gateway/main.ts "$@"`,
    );
    expect(read('remote-gateway/deploy/cluster.ts')).toMatch(
      /spawn\(\s*process\.execPath,\s*\[\s*(?:\/\/[^\n]*\n\s*)*\.\.\.GATEWAY_NODE_FLAGS,\s*'--import',\s*'tsx',\s*join\(ROOT, 'remote-gateway', 'main\.ts'\)/,
    );
  });

  it('keep V8 from marking and compacting while a steady promotion stays under the floor', () => {
    expect(markCompacts([])).toBeGreaterThan(0);
    expect(markCompacts(GATEWAY_NODE_FLAGS)).toBe(0);
  });
});

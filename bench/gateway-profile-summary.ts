/**
 * Where the time went in a V8 .cpuprofile (bench/gateway-profile.ts --profile, or
 * `node --cpu-prof`): the top functions by self time, then by total time (the
 * function and what it called; a function recursing counts once per sample).
 * `tsx bench/gateway-profile-summary.ts <file.cpuprofile> [rows]`; with `--buckets`,
 * the self time in the buckets of docs/BENCHMARKS.md's gateway profile table instead.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: ProfileNode[] };
const rows = Number(process.argv[3] ?? 30);
const keyOf = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
  `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`;
const parent = new Map<number, ProfileNode>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
const self = new Map<string, number>();
const total = new Map<string, number>();
let samples = 0;
let idle = 0;
for (const node of profile.nodes) {
  const key = keyOf(node);
  samples += node.hitCount;
  if (key.startsWith('(idle)')) idle += node.hitCount;
  self.set(key, (self.get(key) ?? 0) + node.hitCount);
  if (node.hitCount === 0) continue;
  const seen = new Set<string>();
  for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) seen.add(keyOf(at));
  for (const k of seen) total.set(k, (total.get(k) ?? 0) + node.hitCount);
}
const busy = samples - idle;
const skip = (k: string) => k.startsWith('(idle)') || k.startsWith('(root)');
const top = (map: Map<string, number>) =>
  [...map]
    .filter(([k]) => !skip(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([name, hits]) => `${((100 * hits) / busy).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
/**
 * Buckets for the gateway's profile table, by a function's name and file, first match
 * wins (self time: a function's own samples, not its callees').
 */
const BUCKETS: [string, RegExp][] = [
  ['CRC-32 (zlib, one per frame in, one out)', /^crc32 /],
  [
    'Gain node (copies, WASM kernel)',
    /gain\.ts|audio-checks|dsp-module|wasm-function|js-to-wasm|^get buffer /,
  ],
  [
    'ws send + socket write (the bare echo pays this too)',
    /sender\.js|^writev |^writeBuffer |stream_base_commons|node:net|writable:|ws-preframed|WriteWrap/,
  ],
  [
    'ws receive + socket read (the bare echo pays this too)',
    /receiver\.js|websocket\.js|readable:|buffer:|FastBuffer|node:events|buffer-util/,
  ],
  [
    'frame encode, CRC excluded',
    /^(writePlanned|writeBody|prepare\w*|planBody|Prepared|encode\w*|setU\d+|dataMessages|scratchBytes) /,
  ],
  ['frame decode + assembly, CRC excluded', /frame-codec\.ts|^push gateway-protocol/],
  ['slab memory (buffer-slab.ts)', /buffer-slab/],
  [
    'session + pipeline JS (queue, inbox, runNode, sink, metrics)',
    /gateway-session|pipeline-session|node-inbox|interrupt-gate|barge-in|node-metrics|gateway\.ts|gateway-protocol|runtime-data|session-output/,
  ],
  ['garbage collector', /^\(garbage collector\)/],
  ['event loop, timers, microtasks, (program)', /./],
];
if (process.argv.includes('--buckets')) {
  const sums = new Map<string, number>(BUCKETS.map(([name]) => [name, 0]));
  for (const [key, hits] of self) {
    if (skip(key)) continue;
    const [name] = BUCKETS.find(([, pattern]) => pattern.test(key))!;
    sums.set(name, sums.get(name)! + hits);
  }
  for (const [name, hits] of sums)
    console.log(`| ${name} | ${((100 * hits) / busy).toFixed(1)}% |`);
  process.exit(0);
}
console.log(`samples ${samples}, busy ${busy} (${((100 * busy) / samples).toFixed(0)}%)`);
console.log(`-- self time, % of busy\n${top(self)}`);
console.log(`-- total time, % of busy\n${top(total)}`);

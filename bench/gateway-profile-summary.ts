/**
 * Where the time went in a V8 .cpuprofile (bench/gateway-profile.ts --profile, or
 * `node --cpu-prof`): the top functions by self time, then by total time (the
 * function and what it called; a function recursing counts once per sample).
 * `tsx bench/gateway-profile-summary.ts <file.cpuprofile> [rows]`.
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
console.log(`samples ${samples}, busy ${busy} (${((100 * busy) / samples).toFixed(0)}%)`);
console.log(`-- self time, % of busy\n${top(self)}`);
console.log(`-- total time, % of busy\n${top(total)}`);

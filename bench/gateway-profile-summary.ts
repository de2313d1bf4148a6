/**
 * Self time by function from a V8 .cpuprofile (from `node --cpu-prof`), top 30:
 * `tsx bench/gateway-profile-summary.ts <file.cpuprofile>`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
};
const byName = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, '');
  const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
  byName.set(key, (byName.get(key) ?? 0) + node.hitCount);
  total += node.hitCount;
}
const idle = [...byName].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
const busy = total - idle;
console.log(`samples ${total}, busy ${busy}`);
for (const [name, hits] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  if (name.startsWith('(idle)')) continue;
  console.log(`${((100 * hits) / busy).toFixed(1).padStart(5)}%  ${name}`);
}

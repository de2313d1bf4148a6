/**
 * What fills the gateway's old generation: runs capacity windows (the load generator,
 * bench/gateway-load.ts, a separate process) one after another against one gateway in
 * this process, which imports only what the gateway imports (as `npm run gateway`
 * does), and prints per window the old generation's used size at the window's start
 * and stop, V8's collections in it, and, after the window's sessions have all ended,
 * the heap after a forced full GC (what is retained) beside the gateway's own
 * structures (sessions, admissions, connections).
 * `npx tsx bench/gateway-heap.ts [counts, e.g. 300,300,300] [--snapshots /tmp/dir]
 * [--allocations | --promoted] [--bench-imports]`
 *
 * --snapshots writes a heap snapshot after each window's forced GC (diff two in
 * Chrome DevTools: what a window left behind). --allocations samples the JS heap's
 * allocations over each timed part (V8's sampling heap profiler, objects the GCs
 * collected included) and prints bytes per frame by allocating function.
 * It runs with the gateway's Node flags (remote-gateway/node-flags.ts; bench/gateway-relaunch.ts),
 * or without them with GATEWAY_BENCH_NODE_FLAGS=0.
 * --bench-imports first imports every benchmark module as `bench/run.ts` does, so the
 * gateway runs beside their live heap, as it did in the bench.
 */
import { mkdirSync } from 'node:fs';
import {
  getHeapSpaceStatistics,
  getHeapStatistics,
  setFlagsFromString,
  writeHeapSnapshot,
} from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startCapacityGateway } from './capacity-gateway.ts';
import { cpuPerFrame, SECONDS } from './gateway-profile.ts';
import { runWithGatewayFlags } from './gateway-relaunch.ts';
import { heapSamplingPhase } from './heap-sampling.ts';

runWithGatewayFlags();
setFlagsFromString('--expose-gc');
/** `--v8 '<flags>'`: V8 flags set at run time before the gateway starts (experiments). */
for (const flag of (process.argv.includes('--v8')
  ? process.argv[process.argv.indexOf('--v8') + 1]!
  : ''
)
  .split(' ')
  .filter(Boolean)) {
  setFlagsFromString(flag);
}
const gc = runInNewContext('gc') as () => void;

const TOKEN = 'bench-token-0123456789';
const counts = (process.argv[2] ?? '300,300,300').split(',').map(Number);
const option = (name: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const snapshots = option('--snapshots');
const allocations = process.argv.includes('--allocations');
/** --promoted: only what no scavenge collected (promoted, or still alive at the stop). */
const promoted = process.argv.includes('--promoted');

if (process.argv.includes('--bench-imports')) {
  for (const name of [
    'core-pipeline',
    'audio-kernels',
    'resample-peers',
    'rings',
    'runtime',
    'silero-vad',
    'python',
    'voice-loop',
    'speech-recognition',
  ]) {
    await import(`./${name}.bench.ts`);
  }
}

const MB = (bytes: number) => (bytes / 1e6).toFixed(2);
function spaces() {
  const by: Record<string, number> = {};
  for (const space of getHeapSpaceStatistics()) by[space.space_name] = space.space_used_size;
  return by;
}
/** Old generation: old space, code space and large objects (what mark-compact collects). */
const oldGen = (by: Record<string, number>) =>
  (by.old_space ?? 0) + (by.code_space ?? 0) + (by.large_object_space ?? 0);
function settledHeap() {
  gc();
  gc();
  const stats = getHeapStatistics();
  return { used: stats.used_heap_size, old: oldGen(spaces()), external: stats.external_memory };
}

function samplingPhase(frames: () => number) {
  const phase = heapSamplingPhase(frames, {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: !promoted,
  });
  return async (which: 'start' | 'stop') => {
    const sampled = await phase(which);
    if (!sampled) return;
    console.log(
      `  JS heap ${promoted ? 'promoted (or alive at the stop)' : 'allocated'}: ${sampled.perFrame.toFixed(0)} B/frame (sampled), by site:`,
    );
    for (const [site, bytes] of sampled.sites.slice(0, 25)) {
      console.log(`  ${bytes.toFixed(0).padStart(6)} B/frame  ${site}`);
    }
  };
}

const gateway = await startCapacityGateway(TOKEN);
if (snapshots) mkdirSync(snapshots, { recursive: true });
const baseline = settledHeap();
console.log(
  `baseline after start-up and a forced GC: heap ${MB(baseline.used)} MB, old generation ${MB(baseline.old)} MB, external ${MB(baseline.external)} MB`,
);
let window = 0;
for (const count of counts) {
  window++;
  let atStart = 0;
  let atStop = 0;
  const sample =
    allocations || promoted ? samplingPhase(() => gateway.metrics.framesIn) : undefined;
  const measured = await cpuPerFrame(
    gateway.port,
    TOKEN,
    count,
    () => gateway.metrics.framesIn,
    SECONDS,
    async (phase) => {
      if (phase === 'start') atStart = oldGen(spaces());
      else atStop = oldGen(spaces());
      await sample?.(phase);
    },
  );
  // The generator has exited; its sessions end as their sockets close.
  while (gateway.metrics.sessionsActive > 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  const settled = settledHeap();
  console.log(
    `window ${window}: ${count} sessions, p99 lag ${measured.p99.toFixed(1)} ms, ${measured.us.toFixed(1)} µs per frame, GCs ${measured.gc.scavenges} scavenges / ${measured.gc.markCompacts} mark-compacts (${measured.gc.pauseMs.toFixed(0)} ms paused); old generation ${MB(atStart)} MB at start, ${MB(atStop)} MB at stop (+${MB(atStop - atStart)} MB${measured.gc.markCompacts ? ', mark-compacts between' : ''}, ${((atStop - atStart) / Math.max(1, measured.frames)).toFixed(0)} B per timed frame); after the sessions ended and a forced GC: heap ${MB(settled.used)} MB (${settled.used >= baseline.used ? '+' : ''}${MB(settled.used - baseline.used)} MB against the baseline), old generation ${MB(settled.old)} MB, external ${MB(settled.external)} MB; sessions active ${gateway.metrics.sessionsActive}, connections ${gateway.connections.connections}`,
  );
  if (snapshots)
    console.log(
      `  snapshot ${writeHeapSnapshot(`${snapshots}/after-window-${window}.heapsnapshot`)}`,
    );
}
await gateway.close();

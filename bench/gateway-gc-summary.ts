/**
 * Sums V8's `--trace-gc-nvp` lines per timed window: `GATEWAY_BENCH_TRACE_GC=nvp npx
 * tsx bench/gateway-heap.ts 300 > /tmp/gc.txt 2>&1; npx tsx bench/gateway-gc-summary.ts
 * /tmp/gc.txt`. A window is what lies between a `phase start N` and `phase stop N`
 * line (bench/gateway-profile.ts writes them on the trace's clock); for it: bytes the
 * young generation took in (allocated), what scavenges promoted into the old
 * generation (objects that lived through two of them), both per frame, and the
 * mark-compacts with their main-thread and background marking time.
 */
import { readFileSync } from 'node:fs';

const PERIOD_MS = 20;
const lines = readFileSync(process.argv[2]!, 'utf8').split('\n');
interface Window {
  sessions: number;
  start: number;
  stop: number;
  /** Frames of the window when its stop line gives them (else 50 per session-second). */
  frames?: number;
}
const windows: Window[] = [];
for (const line of lines) {
  const phase = /^phase (start|stop) (\d+) at (\d+) ms(?: frames (\d+))?/.exec(line);
  if (!phase) continue;
  if (phase[1] === 'start')
    windows.push({ sessions: Number(phase[2]), start: Number(phase[3]), stop: Infinity });
  else {
    windows.at(-1)!.stop = Number(phase[3]);
    if (phase[4]) windows.at(-1)!.frames = Number(phase[4]);
  }
}
/** The main isolate: the one with the most collections (tsx's loader thread has a few). */
const isolates = new Map<string, number>();
for (const line of lines) {
  const id = /^\[\d+:(0x[0-9a-f]+)\]/.exec(line)?.[1];
  if (id && line.includes(' gc=')) isolates.set(id, (isolates.get(id) ?? 0) + 1);
}
const main = [...isolates].sort((a, b) => b[1] - a[1])[0]?.[0];
for (const window of windows) {
  const sum = {
    scavenges: 0,
    markCompacts: 0,
    allocated: 0,
    promoted: 0,
    pause: 0,
    mcPause: 0,
    backgroundMark: 0,
  };
  for (const line of lines) {
    const m = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (.*)$/.exec(line);
    if (!m || m[1] !== main) continue;
    const at = Number(m[2]);
    if (at < window.start || at > window.stop) continue;
    const field = (name: string) =>
      Number(new RegExp(`(?:^| )${name}=([0-9.]+)`).exec(m[3]!)?.[1] ?? 0);
    const kind = /gc=(\w+)/.exec(m[3]!)?.[1];
    // The first collection's figure can be V8's unsigned wrap-around of a negative: left out.
    const allocated = field('allocated');
    if (allocated < 1e12) sum.allocated += allocated;
    sum.pause += field('pause');
    if (kind === 's') {
      sum.scavenges++;
      sum.promoted += field('promoted');
    } else if (kind === 'mc') {
      sum.markCompacts++;
      sum.mcPause += field('pause');
      sum.backgroundMark += field('background.mark');
    }
  }
  const seconds = (window.stop - window.start) / 1000;
  const frames = window.frames ?? window.sessions * ((seconds * 1000) / PERIOD_MS);
  console.log(
    `${window.sessions} sessions, ${seconds.toFixed(1)} s (~${frames.toFixed(0)} frames): ${sum.scavenges} scavenges, ${sum.markCompacts} mark-compacts (${sum.mcPause.toFixed(0)} ms paused, ${sum.backgroundMark.toFixed(0)} ms of background marking); allocated ${(sum.allocated / frames).toFixed(0)} B/frame, promoted by scavenges ${(sum.promoted / frames).toFixed(0)} B/frame (${(sum.promoted / 1e6 / seconds).toFixed(2)} MB/s); all pauses ${sum.pause.toFixed(0)} ms`,
  );
}

/**
 * Profiling harness for the gateway's data path: runs the capacity load generator (a
 * separate process) once against a bare `ws` echo server and once against a gateway,
 * both in this process, and prints the CPU per frame of each and their ratio.
 * `npx tsx bench/gateway-profile.ts [sessions] [gateway] [--profile /tmp/gw.cpuprofile]
 * [--profile-bare /tmp/bare.cpuprofile]` (a profile covers the timed part only: no
 * module loading, no session set-up; GATEWAY_BENCH_SECONDS sets its length), then `npx tsx bench/gateway-profile-summary.ts /tmp/gw.cpuprofile`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { constants as perf, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { createInterface } from 'node:readline';
import { WebSocketServer } from 'ws';
import { startCapacityGateway } from './capacity-gateway.ts';
import type { LoadResult } from './gateway-load.ts';
import { runWithGatewayFlags } from './gateway-relaunch.ts';
import { heapSamplingPhase } from './heap-sampling.ts';

const TOKEN = 'bench-token-0123456789';
const count = Number(process.argv[2] ?? 100);
/** `gateway` as the second argument: the gateway alone, for a profile of it only. */
const gatewayOnly = process.argv[3] === 'gateway';
/** `--profile <file>`: a CPU profile of the gateway over the timed part only. */
const profileTo = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined;

/**
 * `--old-space`: where the objects come from that the major GC collects (those that
 * lived into the old generation) over the timed part, by V8's sampling heap profiler
 * (objects the scavenger collects left out), printed per site.
 */
const oldSpace = process.argv.includes('--old-space');

function oldSpacePhase(frames: () => number) {
  const phase = heapSamplingPhase(frames, {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
  });
  return async (which: 'start' | 'stop') => {
    const sampled = await phase(which);
    for (const [site, bytes] of sampled?.sites.slice(0, 20) ?? []) {
      console.log(`${bytes.toFixed(0).padStart(6)} B/frame into old space  ${site}`);
    }
  };
}

/** Starts V8's sampling profiler at 'start' and writes the profile at 'stop'. */
function profilePhase(file: string) {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  return async (phase: 'start' | 'stop') => {
    if (phase === 'start') {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
    } else {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    }
  };
}

/** The machine's cores (availableParallelism() counts only those this process may use). */
const CORES = cpus().length;

/**
 * While a measurement runs: the load generator on core 1 and this process (the
 * server) on core 0, when the machine has two cores or more and taskset is there
 * ("the load generator on the other core", not left to the scheduler); this process
 * gets all cores back after. GATEWAY_BENCH_PIN=generator pins the generator only (the
 * server's GC and I/O threads may then use core 1 too); GATEWAY_BENCH_PIN=0 neither.
 */
const PIN_MODE = process.env.GATEWAY_BENCH_PIN ?? 'both';

/**
 * Seconds of the timed part (default 3). Longer runs amortise what the first seconds
 * cost whatever the data path (JIT compilation on V8's threads counts in the
 * process's CPU time), so they compare changes of a few µs per frame better.
 */
export const SECONDS = Number(process.env.GATEWAY_BENCH_SECONDS ?? 3);

/** Sets this process's (every thread's) affinity; true when the main thread has it. */
function pin(cores: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
  } catch {
    // A thread that ended while taskset went through them fails it; the rest are set.
  }
  try {
    const status = readFileSync(`/proc/${process.pid}/status`, 'utf8');
    const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
    if (allowed !== cores) process.stderr.write(`pin ${cores}: affinity is ${allowed}\n`);
    return allowed === cores;
  } catch {
    return false;
  }
}

/** Whether taskset can run here at all. */
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * GATEWAY_BENCH_TRACE_GC=1: V8's --trace-gc in this process (the server) only, each
 * collection's kind and the reason V8 gives, on stdout; the load generator, whose
 * stdout carries its results, is left without it (NODE_OPTIONS would reach it too).
 * `marking` adds why each incremental marking (a mark-compact) started; `nvp` prints
 * each collection's bytes allocated and promoted instead (bench/gateway-gc-summary.ts
 * sums them per window: the timed parts are marked on stderr with the same clock).
 */
const TRACE_GC: Record<string, string[]> = {
  '1': ['--trace-gc'],
  marking: ['--trace-gc', '--trace-incremental-marking'],
  nvp: ['--trace-gc-nvp'],
};
for (const flag of TRACE_GC[process.env.GATEWAY_BENCH_TRACE_GC ?? ''] ?? []) {
  setFlagsFromString(flag);
}
/** A timed part's start or stop on stderr, in V8's trace clock (ms since start-up). */
const markPhase = (phase: string, sessions: number, frames?: number) => {
  if (process.env.GATEWAY_BENCH_TRACE_GC) {
    process.stderr.write(
      `phase ${phase} ${sessions} at ${performance.now().toFixed(0)} ms${frames === undefined ? '' : ` frames ${frames}`}\n`,
    );
  }
};

/** The server's garbage collections over a timed part: how many of each kind, their pauses. */
export interface GcCounts {
  scavenges: number;
  markCompacts: number;
  /** Main-thread pause of all of them, ms, and the longest mark-compact's. */
  pauseMs: number;
  longestMarkCompactMs: number;
}

/** Counts this process's GCs from now until the returned function is called. */
function countGcs(): () => GcCounts {
  const counts: GcCounts = { scavenges: 0, markCompacts: 0, pauseMs: 0, longestMarkCompactMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      counts.pauseMs += entry.duration;
      if (kind === perf.NODE_PERFORMANCE_GC_MINOR) counts.scavenges++;
      else if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) {
        counts.markCompacts++;
        counts.longestMarkCompactMs = Math.max(counts.longestMarkCompactMs, entry.duration);
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    return counts;
  };
}

export interface LoadMeasurement extends LoadResult {
  /** The server's (this process's) CPU, user + system, per timed frame, µs. */
  us: number;
  /** The server's GCs over the timed part. */
  gc: GcCounts;
  /** What ran pinned: both (server core 0, generator core 1), the generator only, or none. */
  pinned: 'both' | 'generator' | 'none';
}

/**
 * Runs the load generator against `port` and measures this process's CPU (user +
 * system) per frame over the timed part only (between the generator's start and stop
 * lines): connection set-up and warm-up are not counted.
 */
export async function cpuPerFrame(
  port: number,
  token: string,
  sessions: number,
  frames: () => number,
  seconds = SECONDS,
  onPhase?: (phase: 'start' | 'stop') => void | Promise<void>,
): Promise<LoadMeasurement> {
  const args = [
    '--import',
    'tsx',
    'bench/gateway-load.ts',
    String(port),
    token,
    String(sessions),
    String(seconds),
  ];
  const pinnable = hasTaskset && CORES >= 2 && PIN_MODE !== '0';
  const serverPinned = pinnable && PIN_MODE !== 'generator' && pin('0');
  const pinned = !pinnable ? 'none' : serverPinned ? 'both' : 'generator';
  const child = pinnable
    ? spawn('taskset', ['-c', '1', process.execPath, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let cpuBefore: NodeJS.CpuUsage | undefined;
  let framesBefore = 0;
  let us = NaN;
  let stopGcs: (() => GcCounts) | undefined;
  let gc: GcCounts = { scavenges: NaN, markCompacts: NaN, pauseMs: NaN, longestMarkCompactMs: NaN };
  let result: LoadResult | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    const message = JSON.parse(line) as { phase?: string; result?: LoadResult };
    if (message.phase === 'start') {
      markPhase('start', sessions);
      await onPhase?.('start');
      framesBefore = frames();
      stopGcs = countGcs();
      cpuBefore = process.cpuUsage();
    } else if (message.phase === 'stop' && cpuBefore) {
      const cpu = process.cpuUsage(cpuBefore);
      us = (cpu.user + cpu.system) / Math.max(1, frames() - framesBefore);
      if (stopGcs) gc = stopGcs();
      markPhase('stop', sessions, frames() - framesBefore);
      await onPhase?.('stop');
    } else if (message.result) result = message.result;
  }
  const code = await new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
  );
  if (serverPinned) pin(`0-${CORES - 1}`);
  if (!result) throw new Error(`the load generator gave no result (exit ${code})`);
  return { ...result, us, gc, pinned };
}

/** A bare ws echo server; `frames()` counts the messages it echoed. */
export async function bareEchoServer() {
  let echoed = 0;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) =>
    ws.on('message', (data) => {
      echoed++;
      ws.send(data);
    }),
  );
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as { port: number }).port,
    frames: () => echoed,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** How each pinning reads in a report. */
export const PINNED = {
  both: 'generator pinned to core 1, server to core 0',
  generator: 'generator pinned to core 1, server unpinned',
  none: 'unpinned',
} as const;

if (import.meta.url === `file://${process.argv[1]}`) {
  runWithGatewayFlags();
  const bare = await bareEchoServer();
  const profileBare = process.argv.includes('--profile-bare')
    ? process.argv[process.argv.indexOf('--profile-bare') + 1]
    : undefined;
  const b = gatewayOnly
    ? undefined
    : await cpuPerFrame(
        bare.port,
        'bare',
        count,
        bare.frames,
        SECONDS,
        profileBare ? profilePhase(profileBare) : undefined,
      );
  await bare.close();
  const gateway = await startCapacityGateway(TOKEN);
  const g = await cpuPerFrame(
    gateway.port,
    TOKEN,
    count,
    () => gateway.metrics.framesIn,
    SECONDS,
    profileTo
      ? profilePhase(profileTo)
      : oldSpace
        ? oldSpacePhase(() => gateway.metrics.framesIn)
        : undefined,
  );
  await gateway.close();
  const line = (m: LoadMeasurement) =>
    `${m.us.toFixed(1)} µs per frame (p99 lag ${m.p99.toFixed(1)} ms, lost ${m.lost}; GCs ${m.gc.scavenges} scavenges, ${m.gc.markCompacts} mark-compacts (longest ${m.gc.longestMarkCompactMs.toFixed(1)} ms), ${m.gc.pauseMs.toFixed(0)} ms paused; generator ${m.cpuUs.toFixed(1)} µs per frame, its send p99 ${m.sendP99.toFixed(1)} ms${m.failure ? `; ${m.failure}` : ''})`;
  console.log(
    `${count} sessions (${PINNED[g.pinned]}): bare ws echo ${gatewayOnly ? '-' : line(b!)}; gateway ${line(g)}; ratio ${(g.us / (b?.us ?? NaN)).toFixed(2)}x`,
  );
}

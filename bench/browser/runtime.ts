/**
 * Runtime benchmark page: the same manifest through createRuntime with ring
 * channels and with postMessage channels, page -> worker island -> page; and, to
 * show where a round trip's time goes, its two parts measured alone: the channel
 * floor (frames echoed by a worker over two FrameRings, no session) and the
 * session machinery with no thread (the same pipeline in a PipelineSession here).
 */
import { PipelineRunner } from '../../web/core/internal.ts';
import { createRuntime, type Manifest, RuntimeData, type StreamSession } from '../../web/index.ts';
import { createChannel, openReader, openWriter } from '../../web/runtime/channel/channel.ts';
import { ringDoorbellFor } from '../../web/runtime/channel/ring-channel.ts';

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'gain in the worker' },
  nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -3 } }],
  connections: [],
};

const RATE = 48000;
const BLOCK = 960; // 20 ms
const BLOCKS = 3000; // 60 s of audio per run
const ROUND_TRIPS = 400;
const WARM_UP = 200;

const blocks = Array.from({ length: BLOCKS }, (_, i) =>
  RuntimeData.audio(new Float32Array(BLOCK).fill(Math.sin(i)), RATE, 1),
);

interface Timings {
  runMs: number[];
  /** CPU time of the renderer process (this page's thread and its workers') per run. */
  runCpuMs: number[];
  roundTripMs: number[];
}

/** Set by the benchmark driver (bench/runtime.bench.ts): the renderer's CPU seconds so far. */
const rendererCpuSeconds = (window as unknown as { rendererCpuSeconds?: () => Promise<number> })
  .rendererCpuSeconds;
/** Run time per renderer thread ("pid/tid" -> s), where the driver can tell (Linux). */
const rendererThreadSeconds = (
  window as unknown as {
    rendererThreadSeconds?: () => Promise<Record<string, number> | undefined>;
  }
).rendererThreadSeconds;

/** Seconds the renderer's threads ran between two readings, over the threads in both. */
function ranBetween(before: Record<string, number>, after: Record<string, number>): number {
  let sum = 0;
  for (const [thread, seconds] of Object.entries(after)) {
    const was = before[thread];
    if (was !== undefined) sum += seconds - was;
  }
  return sum;
}

async function roundTrips(trip: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARM_UP; i++) await trip(i);
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    await trip(i);
    times.push(performance.now() - started);
  }
  return times;
}

async function sessionTrips(session: StreamSession): Promise<number[]> {
  const times = await roundTrips(async (i) => {
    await session.sendInput(blocks[i % BLOCKS]!);
    await session.recvOutput();
  });
  await session.close();
  return times;
}

async function runs(run: () => Promise<unknown[]>): Promise<Pick<Timings, 'runMs' | 'runCpuMs'>> {
  await run(); // warm up
  const runMs: number[] = [];
  const runCpuMs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const cpuBefore = await rendererCpuSeconds?.();
    const started = performance.now();
    const outputs = await run();
    runMs.push(performance.now() - started);
    const cpuAfter = await rendererCpuSeconds?.();
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      runCpuMs.push((cpuAfter - cpuBefore) * 1000);
    }
    if (outputs.length !== BLOCKS) throw new Error(`lost outputs: ${outputs.length}`);
  }
  return { runMs, runCpuMs };
}

async function runtimeTimings(channels: 'messages' | 'rings'): Promise<Timings> {
  const runtime = await createRuntime({ channels });
  try {
    const timed = await runs(() => runtime.run(manifest, blocks));
    const roundTripMs = await sessionTrips(await runtime.stream(manifest));
    return { ...timed, roundTripMs };
  } finally {
    runtime.dispose();
  }
}

/** The same pipeline on this thread: what the session machinery costs with no channel. */
async function inProcessTimings(): Promise<Timings> {
  const runner = new PipelineRunner();
  const timed = await runs(() => runner.run(manifest, blocks));
  const roundTripMs = await sessionTrips(await runner.createStreamSession(manifest));
  return { ...timed, roundTripMs };
}

/**
 * Page -> echo worker -> page over two ring channels, no session: the channel
 * floor, as round trips and as runs of every block (written ahead, read as they
 * come). Waiting as the runtime waits: the worker in its wake loop (the input
 * channel rings its doorbell), the page with whenReady, and a round trip's read
 * polls first as recvOutput does for a caller awaiting its reply.
 */
async function ringEchoTimings(parts = ['runs', 'trips']): Promise<Timings> {
  const input = ringDoorbellFor(createChannel('rings'), 'runtime-echo');
  const output = createChannel('rings');
  const worker = new Worker(new URL('./runtime-echo.worker.ts', import.meta.url), {
    type: 'module',
  });
  worker.postMessage({ input: input.reader, output: output.writer });
  const writer = openWriter(input.writer);
  const reader = openReader(output.reader);
  const write = async (i: number) => {
    const waiting = writer.write(blocks[i % BLOCKS]!);
    if (waiting) await waiting;
  };
  const read = async (poll: boolean) => {
    const reading = reader.read();
    if (poll) reader.poll?.();
    const item = await reading;
    if (item === undefined) throw new Error('the echo channel closed early');
    return item;
  };
  try {
    const timed = !parts.includes('runs')
      ? { runMs: [], runCpuMs: [] }
      : await runs(async () => {
          const reading = (async () => {
            const items = [];
            for (let i = 0; i < BLOCKS; i++) items.push(await read(false));
            return items;
          })();
          for (let i = 0; i < BLOCKS; i++) await write(i);
          return reading;
        });
    const roundTripMs = await roundTrips(async (i) => {
      await write(i);
      await read(true);
    });
    return { ...timed, roundTripMs };
  } finally {
    writer.end();
    worker.terminate();
  }
}

/** Two halves of a case's timings, measured apart, as one. */
function pooled(a: Timings, b: Timings): Timings {
  return {
    runMs: [...a.runMs, ...b.runMs],
    runCpuMs: [...a.runCpuMs, ...b.runCpuMs],
    roundTripMs: [...a.roundTripMs, ...b.roundTripMs],
  };
}

const IDLE_SECONDS = 5;

/**
 * The renderer's CPU time (page and workers) per second while a session is open
 * and nothing flows: what an idle channel costs (its waits' wake-ups every 100 ms
 * to look at the cancel flag, any spinning). `open` undefined: the page alone.
 */
async function idleCpuMsPerSecond(channels?: 'messages' | 'rings' | 'echo'): Promise<number> {
  const runtime = channels && channels !== 'echo' ? await createRuntime({ channels }) : undefined;
  let echo: { close(): void } | undefined;
  try {
    const session = runtime ? await runtime.stream(manifest) : undefined;
    if (channels === 'echo') echo = await idleEcho();
    // Blocks through first, then a pause, so that both sides have waited and the
    // code they ran is compiled before the measured window.
    for (let i = 0; session && i < 200; i++) {
      await session.sendInput(blocks[i]!);
      await session.recvOutput();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const threadsBefore = await rendererThreadSeconds?.();
    const before = await rendererCpuSeconds?.();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const threadsAfter = await rendererThreadSeconds?.();
    const after = await rendererCpuSeconds?.();
    await session?.close();
    if (threadsBefore && threadsAfter) {
      return (ranBetween(threadsBefore, threadsAfter) * 1000) / IDLE_SECONDS;
    }
    if (before === undefined || after === undefined) return Number.NaN;
    return ((after - before) * 1000) / IDLE_SECONDS;
  } finally {
    runtime?.dispose();
    echo?.close();
  }
}

/** The echo worker's channels with one item through and both readers waiting: a bare idle channel. */
async function idleEcho(): Promise<{ close(): void }> {
  const input = ringDoorbellFor(createChannel('rings'), 'runtime-echo-idle');
  const output = createChannel('rings');
  const worker = new Worker(new URL('./runtime-echo.worker.ts', import.meta.url), {
    type: 'module',
  });
  worker.postMessage({ input: input.reader, output: output.writer });
  const writer = openWriter(input.writer);
  const reader = openReader(output.reader);
  writer.write(blocks[0]!);
  await reader.read();
  const waiting = reader.read();
  return {
    close() {
      writer.end();
      worker.terminate();
      reader.cancel();
      waiting.catch(() => {});
    },
  };
}

async function runRuntimeBench() {
  // Each channel kind measured twice, in the order M R ... R M, and pooled: a change
  // in the shared machine's load during the run falls on both alike.
  const messagesFirst = await runtimeTimings('messages');
  const ringsFirst = await runtimeTimings('rings');
  const inProcess = await inProcessTimings();
  const ringEcho = await ringEchoTimings();
  const ringsLast = await runtimeTimings('rings');
  const messagesLast = await runtimeTimings('messages');
  const idle = {
    page: await idleCpuMsPerSecond(),
    messages: await idleCpuMsPerSecond('messages'),
    rings: await idleCpuMsPerSecond('rings'),
  };
  const results = {
    messages: pooled(messagesFirst, messagesLast),
    rings: pooled(ringsFirst, ringsLast),
    inProcess,
    ringEcho,
  };
  return { crossOriginIsolated, results, idle, audioSeconds: (BLOCKS * BLOCK) / RATE };
}

(window as unknown as { runRuntimeBench: typeof runRuntimeBench }).runRuntimeBench =
  runRuntimeBench;
/** For profiling by hand: the echo floor alone. */
(window as unknown as { runEchoProbe: typeof ringEchoTimings }).runEchoProbe = ringEchoTimings;
/** For profiling by hand: one kind of runtime channel alone. */
(window as unknown as { runRuntimeProbe: typeof runtimeTimings }).runRuntimeProbe = runtimeTimings;
/** For profiling by hand: the idle CPU of one kind of session (none: the page alone). */
(window as unknown as { runIdleProbe: typeof idleCpuMsPerSecond }).runIdleProbe =
  idleCpuMsPerSecond;

/**
 * For profiling by hand (bench/runtime-profile.ts): a runtime opened once, then
 * 60 s runs on demand, so that a profiler can be started after the warm-up and
 * stopped before the close.
 */
const probe: { runtime?: Awaited<ReturnType<typeof createRuntime>> } = {};
(window as unknown as Record<string, unknown>).runtimeProbeSteps = {
  async open(channels: 'messages' | 'rings', warmUps = 2) {
    probe.runtime = await createRuntime({ channels });
    for (let i = 0; i < warmUps; i++) await probe.runtime.run(manifest, blocks);
  },
  async run(times = 5): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      const started = performance.now();
      const outputs = await probe.runtime!.run(manifest, blocks);
      ms.push(performance.now() - started);
      if (outputs.length !== BLOCKS) throw new Error(`lost outputs: ${outputs.length}`);
    }
    return ms;
  },
  close() {
    probe.runtime?.dispose();
  },
};

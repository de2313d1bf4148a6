/**
 * Runtime benchmark page: the same manifest through createRuntime with ring
 * channels and with postMessage channels, page -> worker island -> page; and, to
 * show where a round trip's time goes, its two parts measured alone: the channel
 * floor (frames echoed by a worker over two FrameRings, no session) and the
 * session machinery with no thread (the same pipeline in a PipelineSession here).
 */
import { PipelineRunner, prepareFrame } from '../../web/core/internal.ts';
import { createRuntime, type Manifest, RuntimeData, type StreamSession } from '../../web/index.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
} from '../../web/runtime/ring/frame-ring.ts';

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
  roundTripMs: number[];
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

async function runs(run: () => Promise<unknown[]>): Promise<number[]> {
  await run(); // warm up
  const runMs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    const outputs = await run();
    runMs.push(performance.now() - started);
    if (outputs.length !== BLOCKS) throw new Error(`lost outputs: ${outputs.length}`);
  }
  return runMs;
}

async function runtimeTimings(channels: 'messages' | 'rings'): Promise<Timings> {
  const runtime = await createRuntime({ channels });
  try {
    const runMs = await runs(() => runtime.run(manifest, blocks));
    const roundTripMs = await sessionTrips(await runtime.stream(manifest));
    return { runMs, roundTripMs };
  } finally {
    runtime.dispose();
  }
}

/** The same pipeline on this thread: what the session machinery costs with no channel. */
async function inProcessTimings(): Promise<Timings> {
  const runner = new PipelineRunner();
  const runMs = await runs(() => runner.run(manifest, blocks));
  const roundTripMs = await sessionTrips(await runner.createStreamSession(manifest));
  return { runMs, roundTripMs };
}

/** Page -> echo worker -> page over two FrameRings, no session: the channel floor. */
async function ringEchoTrips(): Promise<number[]> {
  const input = createFrameRingBuffer(1 << 20);
  const output = createFrameRingBuffer(1 << 20);
  const worker = new Worker(new URL('./runtime-echo.worker.ts', import.meta.url), {
    type: 'module',
  });
  worker.postMessage({ input, output });
  const writer = new FrameRingWriter(input, 'block');
  const reader = new FrameRingReader(output);
  try {
    return await roundTrips(async (i) => {
      const frame = prepareFrame({ sequence: i, data: blocks[i % BLOCKS]! });
      if (!writer.tryWriteFrame(frame)) await writer.writeFrameAsync(frame);
      if (reader.tryReadFrame() === undefined) await reader.readFrameAsync();
    });
  } finally {
    writer.close();
    worker.terminate();
  }
}

async function runRuntimeBench() {
  const results = {
    messages: await runtimeTimings('messages'),
    rings: await runtimeTimings('rings'),
    inProcess: await inProcessTimings(),
  };
  const ringEcho = await ringEchoTrips();
  return { crossOriginIsolated, results, ringEcho, audioSeconds: (BLOCKS * BLOCK) / RATE };
}

(window as unknown as { runRuntimeBench: typeof runRuntimeBench }).runRuntimeBench =
  runRuntimeBench;

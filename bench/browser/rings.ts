/** The ring benchmarks' page: starts worker pairs and collects their timings. */
import { RingBuffer } from 'ringbuf.js';
import { createAudioRingBuffer } from '../../web/runtime/ring/audio-ring.ts';
import { createFrameRingBuffer } from '../../web/runtime/ring/frame-ring.ts';

function worker(job: object, transfer: Transferable[] = []): Promise<Record<string, unknown>> {
  const w = new Worker(new URL('./ring-bench-worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    w.onmessage = (event) => {
      resolve(event.data);
      w.terminate();
    };
    w.onerror = (event) => reject(new Error(event.message));
    w.postMessage(job, transfer);
  });
}

const ROUNDS = 200;
const BATCH = 50;
/** 128 MiB of 128-sample blocks per run, and runs of each ring. */
const BLOCKS = 1 << 18;
const RUNS = 21;

/**
 * Every hop case, postMessage (the baseline) measured first and last and its two
 * runs pooled, so that a change in the machine's load during the minute falls on
 * the baseline as on the rings.
 */
async function hopLatency() {
  const before = await postMessageHops();
  const ring = await ringPair({});
  const into = await ringPair({ into: true });
  // What the wait and wake cost: no spinning (Atomics.wait at once), and the
  // non-blocking wait (Atomics.waitAsync) that the page uses.
  const noSpin = await ringPair({ spin: 0, into: true });
  const waitAsync = await ringPair({ wait: 'async' });
  const floor = {
    spin: await wakeFloor('spin'),
    wait: await wakeFloor('wait'),
    waitAsync: await wakeFloor('waitAsync'),
  };
  const codec = await framePair('codec');
  const frames = await framePair('frame');
  const after = await postMessageHops();
  return {
    ring,
    into,
    noSpin,
    waitAsync,
    floor,
    codec,
    frames,
    postMessage: [...before, ...after],
  };
}

/** A ping-pong of the same 512 bytes between two workers over a MessageChannel. */
async function postMessageHops(): Promise<number[]> {
  const channel = new MessageChannel();
  const [pm] = await Promise.all([
    worker({ role: 'pm-ping', port: channel.port1, rounds: ROUNDS / 2, batch: BATCH }, [
      channel.port1,
    ]),
    worker({ role: 'pm-pong', port: channel.port2 }, [channel.port2]),
  ]);
  return pm.hops as number[];
}

/** The machine's floor under a hop: a bare counter passed between two workers (wake-floor.worker.ts). */
async function wakeFloor(mode: 'spin' | 'wait' | 'waitAsync'): Promise<number[]> {
  const buffer = new SharedArrayBuffer(128);
  const start = (side: 0 | 1) => {
    const w = new Worker(new URL('./wake-floor.worker.ts', import.meta.url), { type: 'module' });
    return new Promise<number[]>((resolve, reject) => {
      w.onmessage = (event) => {
        resolve((event.data as { hops: number[] }).hops);
        w.terminate();
      };
      w.onerror = (event) => reject(new Error(event.message));
      w.postMessage({ buffer, side, mode, rounds: ROUNDS, batch: BATCH });
    });
  };
  const [hops] = await Promise.all([start(0), start(1)]);
  return hops;
}

/** A ping-pong of 512-byte frames between two workers over two FrameRings. */
async function ringPair(options: {
  spin?: number;
  wait?: 'sync' | 'async';
  into?: boolean;
}): Promise<number[]> {
  const a = createFrameRingBuffer(1 << 16);
  const b = createFrameRingBuffer(1 << 16);
  const [ping] = await Promise.all([
    worker({ role: 'ring-ping', out: a, in: b, rounds: ROUNDS, batch: BATCH, ...options }),
    worker({ role: 'ring-pong', in: a, out: b, ...options }),
  ]);
  return ping.hops as number[];
}

/** A ping-pong of codec frames: staged ("codec") or straight in and out ("frame"). */
async function framePair(kind: 'codec' | 'frame'): Promise<number[]> {
  const a = createFrameRingBuffer(1 << 16);
  const b = createFrameRingBuffer(1 << 16);
  const [ping] = await Promise.all([
    worker({ role: `${kind}-ping`, out: a, in: b, rounds: ROUNDS, batch: BATCH }),
    worker({ role: `${kind}-pong`, in: a, out: b }),
  ]);
  return ping.hops as number[];
}

/**
 * Alternating runs of each ring, which goes first swapped every run (so that a
 * change in the machine's load between minutes falls on both alike); the page
 * reports every run's time.
 */
async function throughput(blocks: number) {
  const oursMs: number[] = [];
  const ringbufMs: number[] = [];
  const ours = async () => {
    const buffer = createAudioRingBuffer(1 << 16);
    const [, done] = await Promise.all([
      worker({ role: 'ours-produce', buffer, blocks }),
      worker({ role: 'ours-consume', buffer, blocks }),
    ]);
    oursMs.push(done.ms as number);
  };
  const theirs = async () => {
    const buffer = RingBuffer.getStorageForCapacity(1 << 16, Float32Array);
    const [, done] = await Promise.all([
      worker({ role: 'ringbuf-produce', buffer, blocks }),
      worker({ role: 'ringbuf-consume', buffer, blocks }),
    ]);
    ringbufMs.push(done.ms as number);
  };
  for (let run = 0; run < RUNS; run++) {
    if (run % 2 === 0) {
      await ours();
      await theirs();
    } else {
      await theirs();
      await ours();
    }
  }
  return { bytes: blocks * 128 * 4, oursMs, ringbufMs };
}

/** `parts` picks what to run (both by default; one alone while profiling), `blocks` the size. */
(
  window as unknown as {
    runRingBench: (parts?: string[], blocks?: number) => Promise<unknown>;
  }
).runRingBench = async (parts = ['hop', 'throughput'], blocks = BLOCKS) => ({
  crossOriginIsolated,
  hop: parts.includes('hop') ? await hopLatency() : undefined,
  throughput: parts.includes('throughput') ? await throughput(blocks) : undefined,
});

/** For profiling by hand: one ring ping-pong with the given options, every batch's hop in µs. */
(window as unknown as { runHopProbe: typeof ringPair }).runHopProbe = ringPair;

/**
 * The rings' wake-up protocol under stress, on real threads (Node worker_threads):
 * two workers pass tiny frames back and forth (or stream through a 256-byte ring,
 * so the writer sleeps on a full ring), each pausing at random (a spin, a sleep,
 * a turn of the event loop), with the rings' own blocking waits, their async
 * waits, and a doorbell (the wake loop's protocol). A lost wake-up shows twice:
 * as a sleep that ran to its 1 s safety timeout with its data there (the rings'
 * lateWakes, the doorbell sleeper's count), which must be 0; and as a stall,
 * which the watchdog turns into a failure with the rings' counters after 5 s
 * without progress. No assertion on speed.
 */
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleNodeWorker } from '../../../tests/bundle-node-worker.ts';
import { createDoorbellBuffer, Doorbell } from './doorbell.ts';
import { createFrameRingBuffer, FrameRingReader } from './frame-ring.ts';
import type { StressJob } from './ring-stress.worker.ts';

let code = '';
beforeAll(async () => {
  code = await bundleNodeWorker(new URL('./ring-stress.worker.ts', import.meta.url));
});

const STALL_MS = 5000;

interface Pair {
  jobs: [Omit<StressJob, 'progress' | 'seed'>, Omit<StressJob, 'progress' | 'seed'>];
  rings: SharedArrayBuffer[];
  bells: SharedArrayBuffer[];
}

/** Runs both sides; rejects with the rings' counters if no frame moved for STALL_MS. */
async function runPair({
  jobs,
  rings,
  bells,
}: Pair): Promise<{ lateWakes: number; sleepersLeft: number[] }> {
  const progress = new SharedArrayBuffer(16);
  const counters = new Int32Array(progress);
  const workers = jobs.map(
    (job, i) =>
      new Worker(code, {
        eval: true,
        workerData: { ...job, progress, seed: (Math.random() * 2 ** 31) | (i + 1) },
      }),
  );
  const answers = workers.map(
    (worker) =>
      new Promise<{ lateWakes: number }>((resolve, reject) => {
        worker.once('message', (m: { done?: boolean; lateWakes?: number; failed?: string }) =>
          m.failed ? reject(new Error(m.failed)) : resolve({ lateWakes: m.lateWakes! }),
        );
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`a side ended early (exit ${code})`)));
      }),
  );
  let watchdog: ReturnType<typeof setInterval> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    let last = -1;
    let lastMoved = performance.now();
    watchdog = setInterval(() => {
      const now = Atomics.load(counters, 0);
      if (now !== last) {
        last = now;
        lastMoved = performance.now();
        return;
      }
      if (performance.now() - lastMoved < STALL_MS) return;
      const state = rings.map((ring) => {
        const control = new Int32Array(ring, 0, 48);
        return {
          ...new FrameRingReader(ring).stats(),
          write: control[0],
          read: control[16],
          readerWaiting: control[33],
          writerWaiting: control[34],
          readerWake: control[37],
          writerWake: control[38],
        };
      });
      const sleepers = bells.map((bell) => new Doorbell(bell).sleepers());
      reject(
        new Error(
          `no progress for ${STALL_MS} ms after ${now} frames: rings ${JSON.stringify(state)}, doorbell sleepers ${JSON.stringify(sleepers)}`,
        ),
      );
    }, 250);
  });
  try {
    const done = await Promise.race([Promise.all(answers), stalled]);
    return {
      lateWakes: done[0].lateWakes + done[1].lateWakes + Atomics.load(counters, 2),
      sleepersLeft: bells.map((bell) => new Doorbell(bell).sleepers()),
    };
  } finally {
    clearInterval(watchdog);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * `bells`: "own" a doorbell per side; "dead" the same, each already counting a
 * sleeper that will never leave (a thread terminated asleep: writers must heal
 * the count); "shared" one doorbell both sides sleep on.
 */
function pingPong(
  wait: StressJob['wait'],
  frames: number,
  bellKind: 'own' | 'dead' | 'shared' = 'own',
): Pair {
  const a = createFrameRingBuffer(1024);
  const b = createFrameRingBuffer(1024);
  const bells =
    wait !== 'bell'
      ? []
      : bellKind === 'shared'
        ? [createDoorbellBuffer()]
        : [createDoorbellBuffer(), createDoorbellBuffer()];
  if (bellKind === 'dead') for (const bell of bells) new Doorbell(bell).enter();
  const [mine, theirs] = [bells[0], bells[1] ?? bells[0]];
  return {
    jobs: [
      { role: 'ping', wait, out: a, in: b, frames, myBell: mine, theirBell: theirs },
      { role: 'pong', wait, in: a, out: b, frames, myBell: theirs, theirBell: mine },
    ],
    rings: [a, b],
    bells,
  };
}

function stream(wait: StressJob['wait'], frames: number): Pair {
  // 256 bytes: 16 frames of 8 bytes; the writer sleeps until a quarter is free.
  const ring = createFrameRingBuffer(256);
  const bells = wait === 'bell' ? [createDoorbellBuffer()] : [];
  return {
    jobs: [
      { role: 'source', wait, out: ring, frames, theirBell: bells[0] },
      { role: 'sink', wait, in: ring, frames, myBell: bells[0] },
    ],
    rings: [ring],
    bells,
  };
}

describe('ring wake-ups between two real threads, random pauses on both sides', () => {
  it('blocking read/write ping-pong: every frame, no sleep ran to its safety timeout', async () => {
    expect(await runPair(pingPong('sync', 500_000))).toMatchObject({ lateWakes: 0 });
  }, 120_000);

  it('doorbell sleepers (the wake loop protocol) ping-pong: every frame, no late wake', async () => {
    expect(await runPair(pingPong('bell', 500_000))).toEqual({
      lateWakes: 0,
      sleepersLeft: [0, 0],
    });
  }, 120_000);

  it('doorbells that count a dead sleeper: writers heal the count, no live sleeper missed', async () => {
    expect(await runPair(pingPong('bell', 300_000, 'dead'))).toEqual({
      lateWakes: 0,
      sleepersLeft: [0, 0],
    });
  }, 120_000);

  it('both sides asleep on one shared doorbell: every frame, no late wake', async () => {
    expect(await runPair(pingPong('bell', 300_000, 'shared'))).toEqual({
      lateWakes: 0,
      sleepersLeft: [0],
    });
  }, 120_000);

  it('readAsync/writeAsync ping-pong: every frame, no late wake', async () => {
    expect(await runPair(pingPong('async', 100_000))).toMatchObject({ lateWakes: 0 });
  }, 120_000);

  it('a stream through a 256-byte ring, the writer sleeping on a full ring: no late wake', async () => {
    expect(await runPair(stream('sync', 500_000))).toMatchObject({ lateWakes: 0 });
    expect(await runPair(stream('bell', 500_000))).toMatchObject({ lateWakes: 0 });
  }, 120_000);
});

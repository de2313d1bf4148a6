/**
 * Attack on the rings' "one notify per announced wait" protocol (the notifier
 * takes the sleeper's announcement down as it notifies) on real threads (Node
 * worker_threads): several writer threads stream frames of random lengths (0 to
 * the longest, many filling exactly to the end of the storage) through tiny
 * rings (256 B, and 260 B: not a power of two) into reader threads that take
 * several rings each, asleep on ONE doorbell shared by every reader thread (the
 * wake loop's way) or on whenReady per ring (the page's way); all sides pause at
 * random and spin not at all, so writers sleep on full rings and readers on
 * empty ones, in every order. A reader cancels a ring mid-stream (its writer,
 * often asleep on the full ring, must end with 'aborted'); writers close while
 * their reader sleeps. A lost wake-up fails the test at once: the watchdog reads
 * every ring's LATE_WAKES (a sleep that ran to its 1 s safety timeout with its
 * data there) and the threads' own count each 100 ms, and also fails after 5 s
 * without progress. No assertion on speed.
 */
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleNodeWorker } from '../../../tests/bundle-node-worker.ts';
import { createDoorbellBuffer, Doorbell } from './doorbell.ts';
import { createFrameRingBuffer, FrameRingReader, FrameRingWriter } from './frame-ring.ts';
import type { WakeJob } from './attack-ring-wake.worker.ts';

let code = '';
beforeAll(async () => {
  code = await bundleNodeWorker(new URL('./attack-ring-wake.worker.ts', import.meta.url));
});

const STALL_MS = 5000;
/** frame-ring.ts's control words: the watchdog prints them when a stream stalls; one case reads READER_WAKE. */
const READER_WAITING = 33;
const WRITER_WAITING = 34;
const READER_WAKE = 37;

type Job = Omit<WakeJob, 'progress' | 'threads' | 'seed'>;

interface Setup {
  jobs: Job[];
  rings: SharedArrayBuffer[];
}

interface Outcome {
  /** Per job: frames written (negative: cut short by a cancel at that many) or read. */
  frames: number[];
}

async function runAll({ jobs, rings }: Setup): Promise<Outcome> {
  const progress = new SharedArrayBuffer(16);
  const counters = new Int32Array(progress);
  const workers = jobs.map(
    (job, i) =>
      new Worker(code, {
        eval: true,
        workerData: {
          ...job,
          progress,
          threads: jobs.length,
          seed: (Math.random() * 2 ** 31) | (i + 1),
        } satisfies WakeJob,
      }),
  );
  const answers = workers.map(
    (worker, i) =>
      new Promise<number>((resolve, reject) => {
        worker.once('message', (m: { frames?: number; failed?: string }) =>
          m.failed
            ? reject(new Error(`thread ${i} (${jobs[i]!.role}): ${m.failed}`))
            : resolve(m.frames!),
        );
        worker.once('error', reject);
        worker.once('exit', (exit) => reject(new Error(`thread ${i} ended early (exit ${exit})`)));
      }),
  );
  // The ring's own count of late wakes (a side of it reads the shared word).
  const watchers = rings.map((ring) => new FrameRingReader(ring));
  const describeRings = () =>
    JSON.stringify(
      rings.map((ring, i) => {
        const c = new Int32Array(ring, 0, 48);
        return {
          write: c[0],
          read: c[16],
          readerWaiting: c[READER_WAITING],
          writerWaiting: c[WRITER_WAITING],
          late: watchers[i]!.lateWakes(),
        };
      }),
    );
  let watchdog: ReturnType<typeof setInterval> | undefined;
  const failed = new Promise<never>((_, reject) => {
    let last = -1;
    let lastMoved = performance.now();
    watchdog = setInterval(() => {
      const lateWakes =
        Atomics.load(counters, 2) + watchers.reduce((sum, watcher) => sum + watcher.lateWakes(), 0);
      if (lateWakes > 0) {
        reject(
          new Error(`${lateWakes} lost wake-up(s) after ${counters[0]} frames: ${describeRings()}`),
        );
        return;
      }
      const now = Atomics.load(counters, 0);
      if (now !== last) {
        last = now;
        lastMoved = performance.now();
        return;
      }
      if (performance.now() - lastMoved > STALL_MS) {
        reject(new Error(`no progress for ${STALL_MS} ms after ${now} frames: ${describeRings()}`));
      }
    }, 100);
  });
  try {
    return { frames: await Promise.race([Promise.all(answers), failed]) };
  } finally {
    clearInterval(watchdog);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * `readers` reader threads, each taking `perReader` rings, each ring fed by a
 * writer thread of its own; every ring's writer rings one doorbell that all the
 * reader threads share.
 */
function topology(
  readers: number,
  perReader: number,
  frames: number,
  wait: WakeJob['wait'],
  cancelAfter?: number,
): Setup {
  const bell = createDoorbellBuffer();
  const jobs: Job[] = [];
  const all: SharedArrayBuffer[] = [];
  for (let r = 0; r < readers; r++) {
    const rings: SharedArrayBuffer[] = [];
    const seeds: number[] = [];
    for (let k = 0; k < perReader; k++) {
      const ring = createFrameRingBuffer(k % 2 === 0 ? 256 : 260, {
        initialCounter: 2 ** 32 - 8 * (1 + ((r * 7 + k * 13) % 200)),
      });
      const seed = (Math.random() * 2 ** 31) | 1;
      rings.push(ring);
      seeds.push(seed);
      jobs.push({
        role: 'writer',
        rings: [ring],
        bell,
        ringSeeds: [seed],
        frames,
        wait,
        spinMicros: 0,
      });
    }
    all.push(...rings);
    jobs.push({
      role: 'reader',
      rings,
      bell,
      ringSeeds: seeds,
      frames,
      wait,
      spinMicros: 0,
      ...(r === 0 && cancelAfter !== undefined ? { cancelAfter } : {}),
    });
  }
  return { jobs, rings: all };
}

describe('one notify per announced wait, attacked from several threads', () => {
  it('three writers into one reader asleep on their shared doorbell: every frame, byte-exact, no late wake', async () => {
    const setup = topology(1, 3, 40_000, 'bell');
    const { frames } = await runAll(setup);
    expect(frames).toEqual([40_000, 40_000, 40_000, 120_000]);
  }, 120_000);

  it('two reader threads sharing one doorbell, two writers each: no late wake, nothing lost', async () => {
    const setup = topology(2, 2, 25_000, 'bell');
    const { frames } = await runAll(setup);
    expect(frames).toEqual([25_000, 25_000, 50_000, 25_000, 25_000, 50_000]);
  }, 120_000);

  it('whenReady on each of three rings (the page way), writers sleeping on full rings: no late wake', async () => {
    const setup = topology(1, 3, 25_000, 'whenReady');
    const { frames } = await runAll(setup);
    expect(frames).toEqual([25_000, 25_000, 25_000, 75_000]);
  }, 120_000);

  it("pairs through the ring's own waits (blocking readInto; write and writeAsync), spinning or not: no late wake", async () => {
    const jobs: Job[] = [];
    const rings: SharedArrayBuffer[] = [];
    for (const [capacity, spinMicros, writeAsync] of [
      [256, 0, false],
      [260, 0, true],
      [256, 200, false],
    ] as const) {
      const ring = createFrameRingBuffer(capacity, {
        initialCounter: 2 ** 32 - 8 * (capacity % 7) - 8,
      });
      const seed = (Math.random() * 2 ** 31) | 1;
      rings.push(ring);
      jobs.push(
        {
          role: 'writer',
          rings: [ring],
          ringSeeds: [seed],
          frames: 30_000,
          wait: 'sync',
          spinMicros,
          writeAsync,
        },
        {
          role: 'reader',
          rings: [ring],
          ringSeeds: [seed],
          frames: 30_000,
          wait: 'sync',
          spinMicros,
        },
      );
    }
    const { frames } = await runAll({ jobs, rings });
    expect(frames).toEqual(Array(6).fill(30_000));
  }, 120_000);

  it('a reader cancels a ring mid-stream: its writer (asleep on the full ring or not) ends aborted, the others go on', async () => {
    for (const wait of ['bell', 'whenReady'] as const) {
      const setup = topology(1, 3, 20_000, wait, 7_777);
      const { frames } = await runAll(setup);
      // The cancelled ring's writer stopped at the cancel (it may have got up to a
      // ring's worth ahead of the reader); the others ran to the end.
      expect(frames[0]).toBeLessThan(0);
      expect(-frames[0]!).toBeGreaterThanOrEqual(7_777);
      expect(frames.slice(1)).toEqual([20_000, 20_000, 7_777 + 40_000]);
    }
  }, 120_000);
});

describe('a pad record wakes the reader (found by the runs above: 1 s stalls)', () => {
  it("a writer that pads to the storage's end and then finds no room rings the doorbell and wakes whenReady", () => {
    // 8 bytes before the end: the longest frame (record 256 of 256) needs a pad
    // first, and then the pad itself stands in its way until the reader skips it.
    const buffer = createFrameRingBuffer(256, { initialCounter: 2 ** 32 - 8 });
    const bellBuffer = createDoorbellBuffer();
    const bell = new Doorbell(bellBuffer);
    const writer = new FrameRingWriter(buffer, 'block', 0, bellBuffer);
    const reader = new FrameRingReader(buffer, 0);
    const control = new Int32Array(buffer, 0, 48);
    const seen = bell.enter();
    const armed = reader.whenReady();
    expect(armed).toBeDefined();
    const wake = Atomics.load(control, READER_WAKE);
    expect(writer.tryWrite(new Uint8Array(252))).toBe(false);
    // Both sleepers were told: the doorbell moved, the ring's wake word moved.
    expect(bell.sleep(seen, 0)).toBe('not-equal');
    bell.leave();
    expect(Atomics.load(control, READER_WAKE)).toBe(wake + 1);
    expect(reader.tryRead()).toBeUndefined(); // skips the pad: the room is back
    expect(writer.tryWrite(new Uint8Array(252).fill(7))).toBe(true);
    expect(reader.tryRead()).toEqual(new Uint8Array(252).fill(7));
  });
});

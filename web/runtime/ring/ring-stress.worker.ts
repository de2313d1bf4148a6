/**
 * One side of ring-stress.test.ts, on a Node worker thread (bundled by the test
 * with esbuild). Sides pass tiny frames as fast as they can, with random pauses
 * (a short spin, a short sleep, a turn of the event loop) so that every order of
 * sleep, announce and commit between the two threads comes up. Each side counts
 * its frames in `progress` (the test's watchdog reads it) and answers
 * {done, lateWakes} or {failed}.
 *
 * Roles: "ping"/"pong" pass one frame back and forth over two rings with the
 * rings' own waits ("sync": read/write, "async": readAsync/writeAsync); with
 * "bell" the reading side of each ring sleeps on a Doorbell that the ring's
 * writer rings (the wake loop's protocol: enter, look, sleep, leave). "source"
 * and "sink" stream through one small ring, so that the writer sleeps on a full
 * ring and the reader wakes it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Doorbell } from './doorbell.ts';
import { FrameRingReader, FrameRingWriter, RING_CLOSED } from './frame-ring.ts';

export interface StressJob {
  role: 'ping' | 'pong' | 'source' | 'sink';
  wait: 'sync' | 'async' | 'bell';
  out?: SharedArrayBuffer;
  in?: SharedArrayBuffer;
  /** The doorbell this side sleeps on ("bell"), and the other side's (rung after each write). */
  myBell?: SharedArrayBuffer;
  theirBell?: SharedArrayBuffer;
  /** [0] ping's/sink's frames done, [1] set once both sides started, [2] doorbell late wakes. */
  progress: SharedArrayBuffer;
  frames: number;
  seed: number;
}

const job = workerData as StressJob;
const progress = new Int32Array(job.progress);
const nap = new Int32Array(new SharedArrayBuffer(4));

/** xorshift32: the pauses differ per run (seed) but need no allocation. */
let state = job.seed | 1;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}

/** Sometimes a spin of up to 20 µs, a sleep of up to 0.3 ms, or a turn of the event loop. */
async function pause(): Promise<void> {
  const r = random();
  if (r < 1 / 64) {
    const until = performance.now() + random() * 0.02;
    while (performance.now() < until);
  } else if (r < 1 / 64 + 1 / 512) {
    Atomics.wait(nap, 0, 0, random() * 0.3);
  } else if (r < 1 / 64 + 1 / 512 + 1 / 2048) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const myBell = job.myBell && new Doorbell(job.myBell);

/** The wake loop's protocol on a doorbell, for one ring: enter, look, sleep, leave. */
function readByBell(reader: FrameRingReader, into: Uint8Array): number | typeof RING_CLOSED {
  for (;;) {
    const got = reader.tryReadInto(into);
    if (got !== undefined) return got;
    const seen = myBell!.enter();
    try {
      if (reader.ready()) continue;
      const slept = myBell!.sleep(seen, 1000);
      if (slept === 'timed-out' && reader.ready()) Atomics.add(progress, 2, 1);
    } finally {
      myBell!.leave();
    }
  }
}

let rings: Array<{ lateWakes(): number }> = [];
/** Fails at once on a lost wake-up (a sleep that ran to its safety timeout with its data there). */
function throwIfLate(n: number): void {
  const late = rings.reduce((sum, ring) => sum + ring.lateWakes(), Atomics.load(progress, 2));
  if (late > 0)
    throw new Error(
      `${late} wake-up(s) lost by frame ${n}: a sleep ran to its 1 s safety timeout with its data there`,
    );
}

async function run(): Promise<number> {
  const frame = new Uint8Array(8);
  const into = new Uint8Array(64);
  const writer = job.out && new FrameRingWriter(job.out, 'block', undefined, job.theirBell);
  const reader = job.in && new FrameRingReader(job.in);
  rings = [writer, reader].filter((side) => side !== undefined);
  const read = async (): Promise<number | typeof RING_CLOSED> => {
    if (job.wait === 'bell') return readByBell(reader!, into);
    if (job.wait === 'sync') return reader!.readInto(into);
    const bytes = await reader!.readAsync();
    if (bytes === RING_CLOSED) return bytes;
    into.set(bytes);
    return bytes.length;
  };
  const write = async (n: number): Promise<void> => {
    new DataView(frame.buffer).setUint32(0, n, true);
    if (job.wait === 'async') await writer!.writeAsync(frame);
    else writer!.write(frame);
  };
  const check = (n: number) => {
    const got = new DataView(into.buffer).getUint32(0, true);
    if (got !== n) throw new Error(`frame ${n} arrived as ${got}`);
  };
  // Both sides start together: a peer still loading is not a lost wake-up.
  Atomics.add(progress, 1, 1);
  while (Atomics.load(progress, 1) < 2) Atomics.wait(progress, 1, Atomics.load(progress, 1), 5);
  for (let n = 0; n < job.frames; n++) {
    if (job.role === 'ping' || job.role === 'source') await write(n);
    await pause();
    if (job.role === 'ping' || job.role === 'pong' || job.role === 'sink') {
      if (job.role === 'pong' || job.role === 'sink') {
        const got = await read();
        if (got === RING_CLOSED) throw new Error(`ring closed after ${n} frames`);
        check(n);
        if (job.role === 'pong') await write(n);
        else Atomics.store(progress, 0, n + 1);
      } else {
        const got = await read();
        if (got === RING_CLOSED) throw new Error(`ring closed after ${n} frames`);
        check(n);
        Atomics.store(progress, 0, n + 1);
      }
    }
    await pause();
    if ((n & 1023) === 1023) throwIfLate(n);
  }
  throwIfLate(job.frames);
  return (writer?.lateWakes() ?? 0) + (reader?.lateWakes() ?? 0);
}

// Node does not count a pending Atomics.waitAsync as work: without a timer the
// thread would end in the middle of an async wait.
const alive = setInterval(() => {}, 1000);
run()
  .then(
    (lateWakes) => parentPort!.postMessage({ done: true, lateWakes }),
    (error: unknown) => parentPort!.postMessage({ failed: String(error) }),
  )
  .finally(() => clearInterval(alive));

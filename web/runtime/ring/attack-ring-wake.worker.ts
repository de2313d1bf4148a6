/**
 * One thread of attack-ring-wake.test.ts (Node worker_threads, bundled by the test
 * with esbuild). "writer": streams frames of pseudo-random lengths (0 to the
 * ring's longest, many whose records end exactly at the end of the storage) into
 * one small ring with blocking writes, ringing the reading thread's doorbell, so
 * it sleeps whenever its reader pauses. "reader": takes the frames of several
 * rings on one thread, either the wake loop's way (asleep on one doorbell that
 * other reader threads may share) or the page's way (FrameRingReader.whenReady on
 * each ring, a race of the promises), pausing at random so its writers run into
 * full rings. Every frame is checked byte by byte; a sleep that ran to its safety
 * timeout with data waiting is counted in progress[2] at once (the test fails on
 * the first). Answers {done, frames} or {failed}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RemoteMediaError } from '../../core/errors.ts';
import { Doorbell } from './doorbell.ts';
import { FrameRingReader, FrameRingWriter, RING_CLOSED } from './frame-ring.ts';

export interface WakeJob {
  role: 'writer' | 'reader';
  /** writer: its ring and the reading thread's doorbell; reader: its rings and the doorbell it sleeps on. */
  rings: SharedArrayBuffer[];
  bell?: SharedArrayBuffer;
  /** Per ring: the seed of its frame lengths and contents (writer and reader agree). */
  ringSeeds: number[];
  frames: number;
  /** reader: asleep on the doorbell, on whenReady per ring, or in the ring's own blocking read (one ring). */
  wait: 'bell' | 'whenReady' | 'sync';
  /** writer: waits for room with writeAsync (Atomics.waitAsync) instead of write. */
  writeAsync?: boolean;
  spinMicros: number;
  /** reader: cancels ring 0 after this many of its frames (its writer must end with 'aborted'). */
  cancelAfter?: number;
  /** [0] frames read by all readers, [1] start barrier, [2] late wakes seen by threads. */
  progress: SharedArrayBuffer;
  threads: number;
  seed: number;
}

const job = workerData as WakeJob;
const progress = new Int32Array(job.progress);
const nap = new Int32Array(new SharedArrayBuffer(4));

function xorshift(seed: number): () => number {
  let state = seed | 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}
const random = xorshift(job.seed);

/** Frame n of a ring: its length (biased to the ring's longest and to records ending at the storage's end) and bytes. */
export function frameLength(ringSeed: number, n: number, longest: number): number {
  const h = Math.imul(ringSeed ^ Math.imul(n + 1, 0x9e3779b1), 0x85ebca6b) >>> 0;
  const pick = h % 8;
  if (pick === 0) return longest;
  if (pick === 1) return longest - 8 * ((h >>> 3) % 4);
  if (pick === 2) return (h >>> 3) % 8;
  return (h >>> 3) % (longest + 1);
}
export function byteAt(ringSeed: number, n: number, i: number): number {
  return ((Math.imul(ringSeed + n, 0x27d4eb2f) >>> (i % 23)) ^ i) & 0xff;
}

/** Now and then: a spin of up to 50 µs, a sleep of up to 2 ms, or a turn of the event loop. */
async function pause(rate: number): Promise<void> {
  const r = random();
  if (r < rate) {
    const until = performance.now() + random() * 0.05;
    while (performance.now() < until);
  } else if (r < rate * 1.25) {
    Atomics.wait(nap, 0, 0, random() * 2);
  } else if (r < rate * 1.3) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The rings' and the doorbell's words, for a failure's message. */
function state(): string {
  const rings = job.rings.map((ring) => {
    const c = new Int32Array(ring, 0, 48);
    return [c[0], c[16], c[32], c[33], c[34], c[35], c[37], c[38]];
  });
  const bell = job.bell && [...new Int32Array(job.bell)].filter((_, i) => i % 16 === 0);
  return `rings [write, read, closed, readerWaiting, writerWaiting, cancelled, readerWake, writerWake] ${JSON.stringify(rings)}, doorbell [ring, sleepers, tag] ${JSON.stringify(bell)}`;
}

function late(where: string): void {
  Atomics.add(progress, 2, 1);
  throw new Error(
    `wake-up lost: ${where} slept to its safety timeout with data waiting: ${state()}`,
  );
}

async function writer(): Promise<number> {
  const w = new FrameRingWriter(job.rings[0]!, 'block', job.spinMicros, job.bell);
  const longest = Math.floor(w.capacity / 8) * 8 - 4;
  const seed = job.ringSeeds[0]!;
  const frame = new Uint8Array(longest);
  let n = 0;
  try {
    for (; n < job.frames; n++) {
      const length = frameLength(seed, n, longest);
      for (let i = 0; i < length; i++) frame[i] = byteAt(seed, n, i);
      if (job.writeAsync) await w.writeAsync(frame.subarray(0, length));
      else w.write(frame.subarray(0, length));
      if (w.lateWakes() > 0) late(`writer (frame ${n})`);
      await pause(1 / 200);
    }
  } catch (error) {
    // A reader that cancels mid-stream: the writer must end with 'aborted', not hang.
    if (error instanceof RemoteMediaError && error.kind === 'aborted' && w.cancelled) return -n;
    throw error;
  }
  w.close();
  return n;
}

async function reader(): Promise<number> {
  const rs = job.rings.map((ring) => new FrameRingReader(ring, job.spinMicros));
  const bell = job.bell && new Doorbell(job.bell);
  const next = rs.map(() => 0);
  const open = rs.map(() => true);
  const into = new Uint8Array(rs[0]!.capacity);
  let total = 0;
  const takeAny = (): boolean => {
    let took = false;
    for (let k = 0; k < rs.length; k++) {
      if (!open[k]) continue;
      const got = rs[k]!.tryReadInto(into);
      if (got === undefined) continue;
      took = true;
      if (got === RING_CLOSED) {
        if (next[k] !== job.frames) throw new Error(`ring ${k} closed after ${next[k]} frames`);
        open[k] = false;
        continue;
      }
      const seed = job.ringSeeds[k]!;
      const n = next[k]!;
      const longest = Math.floor(rs[k]!.capacity / 8) * 8 - 4;
      const length = frameLength(seed, n, longest);
      if (got !== length) throw new Error(`ring ${k} frame ${n}: ${got} bytes, wanted ${length}`);
      for (let i = 0; i < length; i++) {
        if (into[i] !== byteAt(seed, n, i))
          throw new Error(`ring ${k} frame ${n}: byte ${i} wrong`);
      }
      next[k] = n + 1;
      total++;
      Atomics.add(progress, 0, 1);
      if (k === 0 && job.cancelAfter !== undefined && n + 1 === job.cancelAfter) {
        rs[0]!.cancel();
        open[0] = false;
      }
    }
    return took;
  };
  if (job.wait === 'sync') {
    // The ring's own blocking read (spin, announce, Atomics.wait), one ring.
    const r = rs[0]!;
    const seed = job.ringSeeds[0]!;
    const longest = Math.floor(r.capacity / 8) * 8 - 4;
    for (let n = 0; ; n++) {
      const got = r.readInto(into);
      if (r.lateWakes() > 0) late('readInto');
      if (got === RING_CLOSED) {
        if (n !== job.frames) throw new Error(`ring closed after ${n} frames`);
        return n;
      }
      const length = frameLength(seed, n, longest);
      if (got !== length) throw new Error(`frame ${n}: ${got} bytes, wanted ${length}`);
      for (let i = 0; i < length; i++) {
        if (into[i] !== byteAt(seed, n, i)) throw new Error(`frame ${n}: byte ${i} wrong`);
      }
      Atomics.add(progress, 0, 1);
      await pause(1 / 100);
    }
  }
  while (open.some((o) => o)) {
    if (takeAny()) {
      await pause(1 / 100);
      continue;
    }
    if (job.wait === 'bell') {
      const seen = bell!.enter();
      try {
        if (rs.some((r, k) => open[k] && r.ready())) continue;
        const slept = bell!.sleep(seen, 1000);
        if (slept === 'timed-out' && rs.some((r, k) => open[k] && r.ready()))
          late('doorbell sleeper');
      } finally {
        bell!.leave();
      }
    } else {
      const waits: Promise<void>[] = [];
      let ready = false;
      for (let k = 0; k < rs.length; k++) {
        if (!open[k]) continue;
        const w = rs[k]!.whenReady();
        if (w === undefined) ready = true;
        else waits.push(w);
      }
      if (ready) {
        for (const r of rs) r.quiet();
        continue;
      }
      const armed = performance.now();
      await Promise.race(waits);
      // whenReady does not count its own late wakes: a 1 s wait that ends with data there is one.
      if (performance.now() - armed > 900 && rs.some((r, k) => open[k] && r.ready())) {
        late('whenReady');
      }
    }
    for (const r of rs) if (r.lateWakes() > 0) late('a ring side');
  }
  return total;
}

// Node does not count a pending Atomics.waitAsync as work: keep the thread alive.
const alive = setInterval(() => {}, 1000);
Atomics.add(progress, 1, 1);
while (Atomics.load(progress, 1) < job.threads) {
  Atomics.wait(progress, 1, Atomics.load(progress, 1), 5);
}
(job.role === 'writer' ? writer() : reader())
  .then(
    (frames) => parentPort!.postMessage({ done: true, frames }),
    (error: unknown) => parentPort!.postMessage({ failed: String(error) }),
  )
  .finally(() => clearInterval(alive));

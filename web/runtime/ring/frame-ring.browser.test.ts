import { describe, expect, it } from 'vitest';
import { AudioRing, createAudioRingBuffer } from './audio-ring.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  type OverrunPolicy,
  RING_CLOSED,
} from './frame-ring.ts';

interface Result {
  frames: number;
  bytes: number;
  lengths?: number[];
  sequences?: number[];
  mismatch?: string;
  ms: number;
}

function runWorker(job: object): Promise<Result> {
  const worker = new Worker(
    new URL('../../../tests/browser/workers/ring-worker.ts', import.meta.url),
    { type: 'module' },
  );
  return new Promise<Result>((resolve, reject) => {
    worker.onmessage = (event) => {
      resolve(event.data as Result);
      worker.terminate();
    };
    worker.onerror = (event) => {
      reject(new Error(event.message));
      worker.terminate();
    };
    worker.postMessage(job);
  });
}

describe('FrameRing between two real workers', () => {
  it('carries 10^8 bytes of random-sized codec frames byte-exact, in order, nothing lost', async () => {
    const buffer = createFrameRingBuffer(1 << 20);
    const job = { buffer, maxPayload: 8192, seed: 42 };
    const [produced, consumed] = await Promise.all([
      runWorker({ ...job, role: 'producer', totalBytes: 1e8 }),
      runWorker({ ...job, role: 'consumer' }),
    ]);
    console.log(
      `10^8 bytes in ${produced.frames} frames: ${(1e8 / 1e6 / (consumed.ms / 1000)).toFixed(0)} MB/s end to end`,
    );
    expect(consumed.mismatch).toBeUndefined();
    expect(consumed.frames).toBe(produced.frames);
    expect(consumed.bytes).toBe(produced.bytes);
    expect(produced.bytes).toBeGreaterThanOrEqual(1e8);
    const stats = new FrameRingReader(buffer).stats();
    expect(stats).toMatchObject({
      droppedFrames: 0,
      closed: true,
      fill: 0,
      framesRead: produced.frames,
    });
    expect(stats.highWater).toBeLessThanOrEqual(1 << 20);
  }, 120_000);

  it.each(['drop-newest', 'drop-oldest'] as OverrunPolicy[])(
    '%s with a slow consumer: drop counters equal exactly what was dropped',
    async (policy) => {
      const buffer = createFrameRingBuffer(16 * 1024);
      const job = { buffer, maxPayload: 700, seed: 7, frames: 3000 };
      const [produced, consumed] = await Promise.all([
        runWorker({ ...job, role: 'producer', policy }),
        runWorker({ ...job, role: 'consumer', sleepMs: 0.2 }),
      ]);
      const stats = new FrameRingReader(buffer).stats();
      expect(consumed.mismatch).toBeUndefined();
      expect(stats.droppedFrames).toBeGreaterThan(0);
      expect(consumed.frames + stats.droppedFrames).toBe(3000);
      const received = new Set(consumed.sequences);
      const droppedBytes = produced.lengths!.reduce(
        (sum, length, i) => (received.has(i) ? sum : sum + length),
        0,
      );
      expect(stats.droppedBytes).toBe(droppedBytes);
      if (policy === 'drop-newest') expect(consumed.sequences![0]).toBe(0);
      else expect(consumed.sequences!.at(-1)).toBe(2999);
    },
    60_000,
  );

  it('says where a frame cannot fit, and ends readers at close', async () => {
    const buffer = createFrameRingBuffer(64);
    const writer = new FrameRingWriter(buffer);
    expect(() => writer.tryWrite(new Uint8Array(100))).toThrow(/cannot fit a 64-byte ring/);
    expect(writer.tryWrite(new Uint8Array([1, 2, 3]))).toBe(true);
    writer.close();
    const reader = new FrameRingReader(buffer);
    expect(await reader.readAsync()).toEqual(new Uint8Array([1, 2, 3]));
    expect(await reader.readAsync()).toBe(RING_CLOSED);
    expect(() => writer.tryWrite(new Uint8Array(1))).toThrow(/closed ring/);
  });
});

describe('the rings through the counter wrap, between two real workers', () => {
  const WRAP = 2 ** 32;

  it('a 100,000-byte FrameRing carries 2x10^7 bytes byte-exact, its counters crossing 2^32 mid-stream', async () => {
    // Started 10^7 bytes below the wrap: both threads cross it while the ring is busy.
    const buffer = createFrameRingBuffer(100_000, { initialCounter: WRAP - 10_000_000 });
    const job = { buffer, maxPayload: 8192, seed: 14 };
    const [produced, consumed] = await Promise.all([
      runWorker({ ...job, role: 'producer', totalBytes: 2e7 }),
      runWorker({ ...job, role: 'consumer' }),
    ]);
    expect(consumed.mismatch).toBeUndefined();
    expect(consumed.frames).toBe(produced.frames);
    expect(consumed.bytes).toBe(produced.bytes);
    const counter = Atomics.load(new Int32Array(buffer, 0, 1), 0) >>> 0;
    expect(counter).toBeLessThan(WRAP - 10_000_000); // wrapped
    expect(counter).toBeGreaterThan(produced.bytes - 10_000_000);
  }, 120_000);

  it('a 96,000-sample AudioRing, 128 in and 960 out, gives every sample back across the wrap', async () => {
    const buffer = createAudioRingBuffer(96_000, { initialCounter: WRAP - 1_000_000 });
    const samples = 4_000_000 - (4_000_000 % 128);
    const start = (role: string) => {
      const worker = new Worker(new URL('./audio-ring-test.worker.ts', import.meta.url), {
        type: 'module',
      });
      return new Promise<Record<string, number>>((resolve, reject) => {
        worker.onmessage = (event) => {
          resolve(event.data as Record<string, number>);
          worker.terminate();
        };
        worker.onerror = (event) => reject(new Error(event.message));
        worker.postMessage({ role, buffer, samples });
      });
    };
    const [produced, consumed] = await Promise.all([start('producer'), start('consumer')]);
    expect(produced).toEqual({ written: (WRAP - 1_000_000 + samples) % WRAP, dropped: 0 });
    expect(consumed).toEqual({ read: samples, wrong: 0 });
  }, 120_000);
});

describe('AudioRing', () => {
  it('wraps around, counts drops and underruns, never allocates a result', () => {
    const ring = new AudioRing(createAudioRingBuffer(256));
    const block = Float32Array.from({ length: 100 }, (_, i) => i);
    const out = new Float32Array(100);
    let expectedNext = 0;
    for (let round = 0; round < 20; round++) {
      expect(ring.write(block)).toBe(100);
      expect(ring.read(out)).toBe(100);
      expect(out[0]).toBe(expectedNext % 100);
      expectedNext += 100;
    }
    expect(ring.write(new Float32Array(300))).toBe(256);
    expect(ring.droppedSamples).toBe(44);
    expect(ring.read(new Float32Array(300), true)).toBe(256);
    expect(ring.underrunSamples).toBe(44);
  });
});

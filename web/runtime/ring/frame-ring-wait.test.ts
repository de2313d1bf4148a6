/**
 * FrameRing's waits on one thread (Node): readInto copies into the caller's buffer
 * and leaves a record that does not fit; an async reader that
 * sleeps gets frames written by a later task; a writer that waits on a full ring
 * until a quarter of it is free gets every frame through, in order, whether the
 * reader takes one frame at a time or drains; a reader's timeout still fires.
 * Threads for real (blocking waits between two workers): frame-ring.browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RemoteMediaError } from '../../core/errors.ts';
import { RuntimeData } from '../../core/internal.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  RING_CLOSED,
} from './frame-ring.ts';

const bytesOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('FrameRingReader.readInto', () => {
  it('copies each record into the target and says how long it is, then RING_CLOSED', () => {
    const buffer = createFrameRingBuffer(256);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const target = new Uint8Array(100).fill(9);
    expect(reader.tryReadInto(target)).toBeUndefined();
    writer.tryWrite(bytesOf(3, 1));
    writer.tryWrite(bytesOf(70, 2));
    expect(reader.tryReadInto(target)).toBe(3);
    expect([...target.subarray(0, 4)]).toEqual([1, 1, 1, 9]);
    expect(reader.readInto(target, 1000)).toBe(70);
    expect(target.subarray(0, 70).every((b) => b === 2)).toBe(true);
    writer.close();
    expect(reader.tryReadInto(target)).toBe(RING_CLOSED);
  });

  it('leaves a record longer than the target in the ring and says how long it is', () => {
    const buffer = createFrameRingBuffer(256);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    writer.tryWrite(bytesOf(40, 7));
    expect(() => reader.tryReadInto(new Uint8Array(39))).toThrow(
      /next ring record is 40 bytes; readInto's target holds only 39/,
    );
    expect(reader.stats().framesRead).toBe(0);
    expect(reader.tryRead()).toEqual(bytesOf(40, 7));
  });

  it('goes on across the end of the storage (pad records) at a capacity that is not a power of two', () => {
    const buffer = createFrameRingBuffer(100, { initialCounter: 2 ** 32 - 60 });
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const target = new Uint8Array(64);
    let padsInTheWay = 0;
    for (let i = 0; i < 500; i++) {
      const length = 1 + ((i * 37) % 60);
      if (!writer.tryWrite(bytesOf(length, i & 0xff))) {
        // The pad before the storage's end counts against the 100 bytes until the
        // reader skips it: then the record fits.
        padsInTheWay++;
        expect(reader.tryReadInto(target)).toBeUndefined();
        expect(writer.tryWrite(bytesOf(length, i & 0xff))).toBe(true);
      }
      expect(reader.tryReadInto(target)).toBe(length);
      expect(target.subarray(0, length).every((b) => b === (i & 0xff))).toBe(true);
    }
    expect(padsInTheWay).toBeGreaterThan(0);
  });
});

describe('FrameRing waits on one thread', () => {
  it('an async reader (Atomics.waitAsync) gets frames written by later tasks', async () => {
    const buffer = createFrameRingBuffer(1024);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const got: number[] = [];
    const reading = (async () => {
      for (;;) {
        const bytes = await reader.readAsync();
        if (bytes === RING_CLOSED) return;
        got.push(bytes[0]!);
      }
    })();
    for (let i = 0; i < 50; i++) {
      await nextTask();
      writer.tryWrite(bytesOf(8, i));
    }
    writer.close();
    await reading;
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it.each([
    ['one frame at a time', 1],
    ['all that is there', Number.POSITIVE_INFINITY],
  ])(
    'a writer waiting on a full ring (until a quarter is free) gets every frame through; reader takes %s',
    async (_, perTask) => {
      const buffer = createFrameRingBuffer(4096);
      const writer = new FrameRingWriter(buffer);
      const reader = new FrameRingReader(buffer);
      const frames = 600;
      const writing = (async () => {
        for (let i = 0; i < frames; i++) await writer.writeAsync(bytesOf(60 + (i % 50), i & 0xff));
        writer.close();
      })();
      const got: number[] = [];
      for (;;) {
        await nextTask();
        let bytes: Uint8Array | undefined | typeof RING_CLOSED;
        for (let n = 0; n < perTask && (bytes = reader.tryRead()) instanceof Uint8Array; n++) {
          expect(bytes.length).toBe(60 + (got.length % 50));
          got.push(bytes[0]!);
        }
        if (bytes === RING_CLOSED) break;
      }
      await writing;
      expect(got).toEqual(Array.from({ length: frames }, (_, i) => i & 0xff));
      expect(reader.stats()).toMatchObject({ framesWritten: frames, framesRead: frames, fill: 0 });
    },
  );

  it('a blocking read times out with a typed error when nothing comes', () => {
    const reader = new FrameRingReader(createFrameRingBuffer(64));
    expect(() => reader.read(5)).toThrow(RemoteMediaError);
    expect(() => reader.read(5)).toThrow(/ring read timed out after 5 ms/);
  });

  it('a blocking write times out with a typed error when the ring stays full', () => {
    const writer = new FrameRingWriter(createFrameRingBuffer(64));
    expect(writer.tryWrite(bytesOf(60, 1))).toBe(true);
    expect(() => writer.write(bytesOf(60, 2), 5)).toThrow(/ring write timed out after 5 ms/);
  });

  it('close ends a pending async read, after the frames before it', async () => {
    const buffer = createFrameRingBuffer(64);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const first = reader.readAsync();
    await nextTask();
    writer.tryWrite(bytesOf(4, 5));
    expect(await first).toEqual(bytesOf(4, 5));
    const second = reader.readAsync();
    await nextTask();
    writer.close();
    expect(await second).toBe(RING_CLOSED);
  });

  it('a cancelled ring ends a pending async read', async () => {
    const buffer = createFrameRingBuffer(64);
    const reader = new FrameRingReader(buffer);
    const reading = reader.readAsync();
    await nextTask();
    new FrameRingWriter(buffer).cancel();
    await expect(reading).rejects.toThrow(/the ring was cancelled/);
  });
});

/** Counts Atomics.notify calls while `body` runs (this thread's). */
async function countingNotifies<T>(
  body: () => Promise<T>,
): Promise<{ result: T; notifies: number }> {
  const notify = Atomics.notify;
  let notifies = 0;
  Atomics.notify = ((typedArray: Int32Array, index: number, count?: number) => {
    notifies++;
    return notify(typedArray, index, count);
  }) as typeof Atomics.notify;
  try {
    return { result: await body(), notifies };
  } finally {
    Atomics.notify = notify;
  }
}

describe('one notify per announced wait, however many frames come before the sleeper runs', () => {
  it('a reader waiting with whenReady: 20 frames written before it runs cost the writer one notify', async () => {
    const buffer = createFrameRingBuffer(4096);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const { result, notifies } = await countingNotifies(async () => {
      const waiting = reader.whenReady();
      expect(waiting).toBeInstanceOf(Promise);
      // All before the reader's wake-up can run (it is a task on this thread).
      for (let i = 0; i < 20; i++) expect(writer.tryWrite(bytesOf(50, i))).toBe(true);
      await waiting;
      const got: Uint8Array[] = [];
      for (let r = reader.tryRead(); r !== undefined && r !== RING_CLOSED; r = reader.tryRead()) {
        got.push(r);
      }
      return got;
    });
    expect(notifies).toBe(1);
    expect(result).toEqual(Array.from({ length: 20 }, (_, i) => bytesOf(50, i)));
    // A second wait announces again, and is woken again.
    const again = reader.whenReady();
    expect(again).toBeInstanceOf(Promise);
    writer.tryWrite(bytesOf(5, 99));
    await again;
    expect(reader.tryRead()).toEqual(bytesOf(5, 99));
    expect(reader.lateWakes()).toBe(0);
  });

  it('a writer waiting for room: the reader draining the whole ring wakes it with one notify', async () => {
    const buffer = createFrameRingBuffer(1024);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    let written = 0;
    while (writer.tryWrite(bytesOf(60, written))) written++;
    const { notifies } = await countingNotifies(async () => {
      const waiting = writer.writeAsync(bytesOf(60, written));
      await nextTask(); // the writer announced the room it wants and sleeps
      // The reader takes every frame before the writer's wake-up can run.
      for (let i = 0; i < written; i++) expect(reader.tryRead()).toEqual(bytesOf(60, i));
      await waiting;
    });
    expect(notifies).toBe(1);
    expect(reader.tryRead()).toEqual(bytesOf(60, written));
    expect(writer.lateWakes()).toBe(0);
  });
});

describe('frame layout: every frame starts 8-aligned in the shared memory', () => {
  it('frames of any length, across the end of the storage, start on 8-byte boundaries and read back equal', () => {
    const buffer = createFrameRingBuffer(8192);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const bytes = new Uint8Array(buffer);
    // Zero payloads, so that the codec's magic ("RM", version 1) marks frame starts only.
    const items = [0, 1, 3, 17, 960, 5, 250, 961, 2].map((n) =>
      n % 2 === 0
        ? RuntimeData.audio(new Float32Array(n), 48000, 1)
        : RuntimeData.binary(new Uint8Array(n)),
    );
    for (let lap = 0; lap < 6; lap++) {
      const starts: number[] = [];
      for (const item of items) {
        expect(writer.tryWriteFrame({ sequence: 0, data: item })).toBe(true);
      }
      for (let at = 0; at + 2 < bytes.length; at++) {
        if (bytes[at] === 0x52 && bytes[at + 1] === 0x4d && bytes[at + 2] === 1) starts.push(at);
      }
      expect(starts.length).toBeGreaterThanOrEqual(items.length);
      for (const at of starts) expect(at % 8, `a frame at byte ${at}`).toBe(0);
      for (const item of items) {
        const frame = reader.tryReadFrame();
        expect(frame === undefined || frame === RING_CLOSED ? frame : frame.data).toEqual(item);
      }
    }
  });
});

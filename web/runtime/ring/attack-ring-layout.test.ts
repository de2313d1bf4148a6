/**
 * Attack on FrameRing's 8-byte record layout (records padded to 8, storage 4 bytes
 * past an 8-byte boundary) under fast-check: random capacities (multiples of 4,
 * not powers of two), frame lengths from 0 to past the longest a ring takes,
 * counters started anywhere (near 2^32, and at 4 mod 8), all three overrun
 * policies, against an independent model of where each record lies. Checked after
 * every step: whether a write was taken or dropped is what the model's free space
 * says (so a ring that has room for a record accepts it), each frame lies in the
 * shared memory where the model puts it (8-aligned when the counters start on a
 * multiple of 8), fill/highWater/frame and drop counts exact, reads byte-exact
 * through the end of the storage and the counters' wrap, and a frame past the
 * longest the ring holds is refused with a `usage` error that names that longest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RemoteMediaError } from '../../core/errors.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  type OverrunPolicy,
  RING_CLOSED,
} from './frame-ring.ts';

/** The control block's size and the storage's offset (frame-ring.ts's DATA_OFFSET). */
const DATA_OFFSET = 48 * 4 + 4;
const PAD = 0xffff_ffff;
const record = (length: number) => Math.ceil((4 + length) / 8) * 8;
const longest = (capacity: number) => Math.floor(capacity / 8) * 8 - 4;

/** A frame's bytes: its number and length scrambled in, so a misplaced byte shows. */
function bytesOf(id: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (Math.imul(id + 1, 0x9e3779b1) >>> (i % 24)) ^ i;
  return bytes;
}

/** Where the model says each record lies: counters mod 2^32, as the ring keeps them. */
class Model {
  write: number;
  read: number;
  readonly queue: Array<{ id: number; length: number; at: number } | { pad: number; at: number }> =
    [];
  highWater = 0;
  written = 0;
  taken = 0;
  droppedFrames = 0;
  droppedBytes = 0;
  constructor(
    readonly capacity: number,
    readonly storage: number,
    start: number,
  ) {
    this.write = start >>> 0;
    this.read = start >>> 0;
  }
  get fill(): number {
    return (this.write - this.read) >>> 0;
  }
  private tail(): number {
    return this.storage - (this.write % this.storage);
  }
  private push(entry: Model['queue'][number], bytes: number): void {
    this.queue.push(entry);
    this.write = (this.write + bytes) >>> 0;
    // The ring raises its high-water mark as it commits a frame (a pad alone does not).
    if (!('pad' in entry)) this.highWater = Math.max(this.highWater, this.fill);
  }
  private dropFront(): void {
    const front = this.queue.shift()!;
    const bytes = 'pad' in front ? front.pad : record(front.length);
    if (!('pad' in front)) {
      this.droppedFrames++;
      this.droppedBytes += front.length;
    }
    this.read = (this.read + bytes) >>> 0;
  }
  /** What tryWrite does: 'taken', 'dropped' or 'full' (block: nothing changed but a pad). */
  offer(id: number, length: number, policy: OverrunPolicy): 'taken' | 'dropped' | 'full' {
    const needed = record(length);
    for (;;) {
      const room = this.capacity - this.fill;
      const tail = this.tail();
      if (needed > tail) {
        if (room >= tail) {
          this.push({ pad: tail, at: this.write % this.storage }, tail);
          continue;
        }
      } else if (room >= needed) {
        this.push({ id, length, at: this.write % this.storage }, needed);
        this.written++;
        return 'taken';
      }
      if (policy === 'block') return 'full';
      if (policy === 'drop-newest') {
        this.droppedFrames++;
        this.droppedBytes += length;
        return 'dropped';
      }
      this.dropFront();
    }
  }
  /** What tryRead returns: the next frame (pads skipped), or undefined. */
  take(): { id: number; length: number; at: number } | undefined {
    for (;;) {
      const front = this.queue.shift();
      if (front === undefined) return undefined;
      if ('pad' in front) {
        this.read = (this.read + front.pad) >>> 0;
        continue;
      }
      this.read = (this.read + record(front.length)) >>> 0;
      this.taken++;
      return front;
    }
  }
}

const starts = fc.oneof(
  fc.integer({ min: 1, max: 3000 }).map((k) => 2 ** 32 - 4 * k),
  fc.integer({ min: 1, max: 3000 }).map((k) => 2 ** 32 - 8 * k),
  fc.integer({ min: 0, max: 2 ** 30 - 1 }).map((k) => 4 * k),
  fc.constant(0),
);

type Step = { op: 'write'; length: number } | { op: 'read'; n: number };

function steps(capacity: number): fc.Arbitrary<Step[]> {
  const max = longest(capacity);
  const length = fc.oneof(
    fc.integer({ min: 0, max }),
    fc.constantFrom(0, 1, 3, 4, 5, max, max - 1, max - 4, max - 8),
    fc.integer({ min: max + 1, max: max + 12 }),
    // Lengths whose records end exactly at the end of the storage, or 4 bytes short.
    fc.integer({ min: 0, max: 6 }).map((k) => Math.max(0, max - 8 * k)),
  );
  return fc.array(
    fc.oneof(
      { weight: 3, arbitrary: length.map((n) => ({ op: 'write', length: n }) as Step) },
      {
        weight: 2,
        arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => ({ op: 'read', n }) as Step),
      },
    ),
    { minLength: 1, maxLength: 250 },
  );
}

function run(capacity: number, start: number, policy: OverrunPolicy, plan: Step[]): void {
  const buffer = createFrameRingBuffer(capacity, { initialCounter: start });
  const storage = buffer.byteLength - DATA_OFFSET;
  const raw = new DataView(buffer, DATA_OFFSET);
  const writer = new FrameRingWriter(buffer, policy);
  const reader = new FrameRingReader(buffer);
  const model = new Model(capacity, storage, start);
  const max = longest(capacity);
  let id = 0;
  for (const step of plan) {
    if (step.op === 'write') {
      const bytes = bytesOf(id, step.length);
      if (step.length > max) {
        let caught: unknown;
        try {
          writer.tryWrite(bytes);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(RemoteMediaError);
        expect((caught as RemoteMediaError).kind).toBe('usage');
        expect((caught as Error).message).toContain(`at most ${max} bytes`);
        continue;
      }
      const expected = model.offer(id, step.length, policy);
      const took = writer.tryWrite(bytes);
      expect(took, `write ${id} of ${step.length} bytes (${expected})`).toBe(expected !== 'full');
      if (expected === 'taken') {
        const at = model.queue[model.queue.length - 1]!.at;
        expect(raw.getUint32(at, true), `length field of frame ${id}`).toBe(step.length);
        expect(new Uint8Array(buffer, DATA_OFFSET + at + 4, step.length)).toEqual(bytes);
        if (start % 8 === 0) expect((DATA_OFFSET + at + 4) % 8, `frame ${id} 8-aligned`).toBe(0);
      }
      // Every pad the writer placed is where the model put it.
      for (const entry of model.queue)
        if ('pad' in entry) expect(raw.getUint32(entry.at, true)).toBe(PAD);
      id++;
    } else {
      for (let i = 0; i < step.n; i++) {
        const want = model.take();
        const got = reader.tryRead();
        if (want === undefined) {
          expect(got).toBeUndefined();
          break;
        }
        expect(got).toEqual(bytesOf(want.id, want.length));
      }
    }
    const stats = reader.stats();
    expect(stats).toEqual({
      capacity,
      fill: model.fill,
      highWater: model.highWater,
      framesWritten: model.written,
      framesRead: model.taken,
      droppedFrames: model.droppedFrames,
      droppedBytes: model.droppedBytes,
      closed: false,
    });
  }
  writer.close();
  for (let want = model.take(); want !== undefined; want = model.take()) {
    expect(reader.tryRead()).toEqual(bytesOf(want.id, want.length));
  }
  expect(reader.tryRead()).toBe(RING_CLOSED);
}

describe('FrameRing 8-byte layout against a model', () => {
  const capacities = fc.oneof(
    fc.integer({ min: 16, max: 300 }).map((k) => 4 * k),
    fc.constantFrom(64, 68, 100, 124, 128, 132, 256, 260, 1020, 1024),
  );

  for (const policy of ['block', 'drop-newest', 'drop-oldest'] as const) {
    it(`${policy}: placement, acceptance, stats and bytes exact through the storage's end and the 2^32 wrap`, () => {
      fc.assert(
        fc.property(
          capacities.chain((capacity) => fc.tuple(fc.constant(capacity), starts, steps(capacity))),
          ([capacity, start, plan]) => run(capacity, start, policy, plan),
        ),
        { numRuns: 300 },
      );
    });
  }

  it('an empty ring takes its longest frame at every position of the storage (after the reader skips a pad)', () => {
    for (const capacity of [64, 68, 100, 132, 1020]) {
      const max = longest(capacity);
      const buffer = createFrameRingBuffer(capacity, { initialCounter: 2 ** 32 - 4 * 40 });
      const writer = new FrameRingWriter(buffer);
      const reader = new FrameRingReader(buffer);
      for (let i = 0; i < 200; i++) {
        // A small frame moves the position by 8; then the longest frame, alone in the ring.
        expect(writer.tryWrite(bytesOf(i, i % 5))).toBe(true);
        expect(reader.tryRead()).toEqual(bytesOf(i, i % 5));
        if (!writer.tryWrite(bytesOf(i, max))) {
          // Only a pad may stand in the way; skipping it frees the room.
          expect(reader.tryRead()).toBeUndefined();
          expect(writer.tryWrite(bytesOf(i, max))).toBe(true);
        }
        expect(reader.tryRead()).toEqual(bytesOf(i, max));
        expect(reader.stats().fill).toBe(0);
      }
    }
  });
});

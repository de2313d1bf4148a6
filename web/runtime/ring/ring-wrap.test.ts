/**
 * The rings through the 32-bit wrap of their counters, byte-exact, at capacities
 * that are not powers of two (the capture ring's 96,000 samples; a 100,000-byte
 * frame ring), with uneven write and read sizes (128 samples in, 960 out).
 *
 * Why this covers 48 h of 48 kHz stereo capture (and 24 h of 20 ms frames) without
 * moving 10^10 samples: a ring's behaviour depends on its counters only through
 * `counter & mask` (the position) and `(write - read) mod 2^32` (the fill). Both
 * are functions of the counter mod 2^32, and the mask divides 2^32, so the state
 * after n samples is the same whatever multiple of 2^32 separates two counters
 * with the same low bits. 48 h of stereo is 1.66e10 samples: the counters pass
 * every 32-bit value about 3.9 times and cross the wrap 3 or 4 times, and nowhere
 * else does the arithmetic change. So the test (a) streams through the wrap from
 * several starting phases (the wrap falling at different positions in the storage
 * and at different fills, the ring running full and dropping too), each lap
 * identical to every other lap of a 48 h run, and (b) runs the same traffic from
 * counters spread over the whole 48 h (24 h) range, checking what comes out and
 * what `written` says at each.
 */
import { describe, expect, it } from 'vitest';
import { RemoteMediaError } from '../../core/errors.ts';
import { AudioRing, createAudioRingBuffer } from './audio-ring.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  RING_CLOSED,
} from './frame-ring.ts';

const WRAP = 2 ** 32;
/** 48 h of 48 kHz stereo, in samples; 24 h of 20 ms frames. */
const STEREO_48H = 48 * 3600 * 48_000 * 2;
const FRAMES_24H = 24 * 3600 * 50;

/** Sample n of the test signal: 24-bit values (exact in float32), scrambled so a misplaced sample shows. */
function sampleAt(n: number): number {
  return Math.imul(n, 0x9e3779b1) >>> 8;
}

interface AudioRun {
  wrong: number;
  checked: number;
  dropped: number;
  produced: number;
  written: number;
}

/**
 * Writes `total` samples 128 at a time and reads 960 at a time whenever that much
 * is there; every `stallEvery` writes the reader stalls for `stallWrites` writes
 * (so the ring runs full and drops, as when a worker is busy). The writer's block
 * loses what did not fit, so the expected stream skips those samples.
 */
function runAudio(
  capacity: number,
  initialCounter: number,
  total: number,
  stall = { every: 0, writes: 0 },
): AudioRun {
  const ring = new AudioRing(createAudioRingBuffer(capacity, { initialCounter }));
  expect(ring.written).toBe(initialCounter >>> 0);
  const input = new Float32Array(128);
  const output = new Float32Array(960);
  // What the ring accepted, in order, as the reader must see it: runs of sample
  // numbers [first, count] (a full ring cuts a block short).
  const runs: number[] = [];
  let next = 0; // the next sample number the reader expects, within runs[0]
  let produced = 0;
  let wrong = 0;
  let checked = 0;
  let dropped = 0;
  for (let block = 0; produced < total; block++) {
    for (let i = 0; i < 128; i++) input[i] = sampleAt(produced + i);
    const took = ring.write(input);
    if (took > 0) runs.push(produced, took);
    dropped += 128 - took;
    produced += 128;
    const stalled = stall.every > 0 && block % stall.every < stall.writes;
    while (!stalled && ring.available() >= 960) {
      expect(ring.read(output)).toBe(960);
      for (let i = 0; i < 960; i++) {
        if (runs.length > 0 && next === 0) next = runs[0]!;
        if (output[i] !== sampleAt(next)) wrong++;
        next++;
        if (next === runs[0]! + runs[1]!) {
          runs.splice(0, 2);
          next = 0;
        }
      }
      checked += 960;
    }
  }
  expect(ring.droppedSamples).toBe(dropped);
  return { wrong, checked, dropped, produced, written: ring.written };
}

describe('AudioRing through the counter wrap', () => {
  it('reproduces issue 14: counters 6,240 below 2^32, 96,000-sample ring, 128 in / 960 out, 12,480 samples all right', () => {
    // The old `% capacity` read 448 of these 12,480 samples wrong.
    const run = runAudio(96_000, WRAP - 6240, 12_480 + 128 * 8);
    expect(run.checked).toBeGreaterThanOrEqual(12_480);
    expect(run.wrong).toBe(0);
  });

  it.each([
    { capacity: 96_000, start: WRAP - 6240 },
    { capacity: 96_000, start: WRAP - 1 },
    { capacity: 96_000, start: WRAP - 95_999 },
    { capacity: 192_000, start: WRAP - 100_000 },
    { capacity: 1100, start: WRAP - 977 },
  ])(
    'streams byte-exact across the wrap at capacity $capacity from $start, running full and dropping too',
    ({ capacity, start }) => {
      const total = 8 * capacity + 300_000;
      const steady = runAudio(capacity, start, total);
      expect(steady).toMatchObject({ wrong: 0, dropped: 0 });
      expect(steady.written).toBe((start + steady.produced) % WRAP);
      const choking = runAudio(capacity, start, total, {
        every: Math.ceil((3 * capacity) / 128),
        writes: Math.ceil((2 * capacity) / 128),
      });
      expect(choking.wrong).toBe(0);
      expect(choking.dropped).toBeGreaterThan(0);
      expect(choking.checked).toBeGreaterThan(total / 4);
    },
  );

  it('gives the same samples from counters spread over 48 h of 48 kHz stereo', () => {
    let wraps = 0;
    for (let n = 0; n <= STEREO_48H; n += Math.floor(STEREO_48H / 97)) {
      const counter = n % WRAP;
      // Every wrap the 48 h run crosses, started just before it.
      const next = (wraps + 1) * WRAP;
      if (next <= STEREO_48H && n + STEREO_48H / 97 > next) {
        wraps++;
        expect(runAudio(96_000, next - 5000, 20_000).wrong).toBe(0);
      }
      const run = runAudio(96_000, counter, 20_000);
      expect(run.wrong).toBe(0);
      expect(run.written).toBe((counter + run.produced) % WRAP);
    }
    expect(wraps).toBe(3);
  });

  it('rejects a buffer it did not make, and says what is valid', () => {
    expect(() => createAudioRingBuffer(96_000.5)).toThrow(/128 to 2\^28 samples/);
    expect(() => new AudioRing(new SharedArrayBuffer(32 + 96_000 * 4))).toThrow(
      /createAudioRingBuffer/,
    );
  });
});

/** A seeded payload of `length` bytes for frame `index`. */
function payload(index: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = Math.imul(index + 1, 0x9e3779b1) | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
  return bytes;
}

/** 20 ms of 48 kHz stereo: 1,920 samples; a frame carries `index` in its samples. */
function audioBlock(index: number): Float32Array {
  const samples = new Float32Array(1920);
  for (let i = 0; i < samples.length; i++) samples[i] = sampleAt(index * 1920 + i);
  return samples;
}

/** Byte for byte (vitest's toEqual is slow on large typed arrays). */
function sameBytes(a: unknown, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function equalSamples(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Streams `frames` 20 ms audio frames through a ring encoded straight in and decoded
 * straight out (writeFrame/readFrame), the reader letting the ring fill to about
 * `lag` frames before it catches up. Returns how many frames came back wrong.
 */
function runFrames(capacity: number, initialCounter: number, frames: number, lag: number) {
  const buffer = createFrameRingBuffer(capacity, { initialCounter });
  const writer = new FrameRingWriter(buffer);
  const reader = new FrameRingReader(buffer);
  let wrong = 0;
  let read = 0;
  const readOne = () => {
    const frame = reader.tryReadFrame();
    if (frame === undefined || frame === RING_CLOSED) throw new Error(`frame ${read} missing`);
    const { sequence, data } = frame;
    if (
      sequence !== read ||
      data.kind !== 'audio' ||
      data.sampleRate !== 48_000 ||
      data.channels !== 2 ||
      data.timestampUs !== read * 20_000 ||
      !equalSamples(data.samples, audioBlock(read))
    ) {
      wrong++;
    }
    read++;
  };
  for (let i = 0; i < frames; i++) {
    const frame = {
      sequence: i,
      data: {
        kind: 'audio' as const,
        samples: audioBlock(i),
        sampleRate: 48_000,
        channels: 2,
        timestampUs: i * 20_000,
      },
    };
    while (!writer.tryWriteFrame(frame)) readOne();
    if (i - read > lag) while (read < i - lag / 2) readOne();
  }
  writer.close();
  while (read < frames) readOne();
  expect(reader.tryReadFrame()).toBe(RING_CLOSED);
  expect(reader.stats()).toMatchObject({ framesWritten: frames, framesRead: frames, fill: 0 });
  return { wrong, counter: Atomics.load(new Int32Array(buffer, 0, 1), 0) >>> 0 };
}

describe('FrameRing through the counter wrap', () => {
  it('reproduces issue 14: a 100,000-byte ring partly full at the wrap reads back exactly what was written', () => {
    const buffer = createFrameRingBuffer(100_000, { initialCounter: WRAP - 90_000 });
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    let written = 0;
    while (writer.tryWrite(payload(written, 1000))) written++;
    expect(written).toBeGreaterThan(90);
    // The old ring returned frames without end here (its positions jumped at the wrap).
    for (let i = 0; i < written; i++)
      expect(sameBytes(reader.tryRead(), payload(i, 1000))).toBe(true);
    expect(reader.tryRead()).toBeUndefined();
  });

  it('never spins on a record that cannot be right: a corrupted ring is a protocol error, a cancelled one aborts', () => {
    const buffer = createFrameRingBuffer(100_000, { initialCounter: WRAP - 40 });
    new FrameRingWriter(buffer).tryWrite(payload(0, 100));
    const reader = new FrameRingReader(buffer);
    // Overwrite the record's length field (position = counter & mask) with garbage.
    const position = (WRAP - 40) & (131_072 - 1);
    // The storage is the buffer's last 131,072 bytes, after the control block.
    new DataView(buffer, buffer.byteLength - 131_072).setUint32(position, 0xabababab, true);
    expect(() => reader.tryRead()).toThrow(RemoteMediaError);
    expect(() => reader.tryRead()).toThrow(/corrupted.*length 2880154539/);
    reader.cancel();
    expect(() => reader.tryRead()).toThrow(/cancelled/);
  });

  it.each([
    { start: WRAP - 4, lag: 1 },
    { start: WRAP - 60_000, lag: 6 },
    { start: WRAP - 99_996, lag: 12 },
    { start: WRAP - 131_072 * 3 - 8, lag: 11 },
  ])(
    '20 ms stereo frames, encoded into and decoded from a 100,000-byte ring, byte-exact across the wrap from $start',
    ({ start, lag }) => {
      // 400 frames of 7,720 bytes: 3.1 MB, so the wrap falls well inside the run.
      const { wrong, counter } = runFrames(100_000, start, 400, lag);
      expect(wrong).toBe(0);
      expect(counter).toBeLessThan(start >>> 0); // went through the wrap
    },
  );

  it('frames byte-exact from counters spread over 24 h of 20 ms frames (and at each of its wraps)', () => {
    const recordBytes = 4 + 28 + 8 + 1920 * 4;
    const totalBytes = FRAMES_24H * recordBytes;
    const step = Math.floor(totalBytes / 61 / 4) * 4;
    for (let n = 0; n <= totalBytes; n += step) {
      expect(runFrames(100_000, n % WRAP, 40, 8).wrong).toBe(0);
    }
    for (let k = 1; k * WRAP <= totalBytes; k++) {
      expect(runFrames(100_000, WRAP - 4 * ((k * 7919) % 25_000), 60, 9).wrong).toBe(0);
    }
  });

  it('raw records of uneven sizes under drop-oldest across the wrap: every frame read is exact, every loss counted', () => {
    const buffer = createFrameRingBuffer(100_000, { initialCounter: WRAP - 50_000 });
    const writer = new FrameRingWriter(buffer, 'drop-oldest');
    const reader = new FrameRingReader(buffer);
    const sizes = (i: number) => 1 + ((i * 7919) % 9000);
    let last = -1;
    let got = 0;
    let bytes = 0;
    for (let i = 0; i < 3000; i++) {
      const bytesOut = payload(i, sizes(i));
      // The index rides in the first bytes so the reader knows which one it has.
      const tagged = new Uint8Array(bytesOut.length + 4);
      new DataView(tagged.buffer).setUint32(0, i, true);
      tagged.set(bytesOut, 4);
      expect(writer.tryWrite(tagged)).toBe(true);
      bytes += tagged.length;
      if (i % 5 === 0) {
        const frame = reader.tryRead();
        if (frame instanceof Uint8Array) {
          const index = new DataView(frame.buffer).getUint32(0, true);
          expect(index).toBeGreaterThan(last);
          expect(sameBytes(frame.subarray(4), payload(index, sizes(index)))).toBe(true);
          last = index;
          got++;
          bytes -= frame.length;
        }
      }
    }
    const stats = reader.stats();
    let rest = 0;
    for (let f = reader.tryRead(); f instanceof Uint8Array; f = reader.tryRead()) {
      rest++;
      bytes -= f.length;
    }
    expect(stats.droppedFrames).toBeGreaterThan(0);
    expect(got + rest + stats.droppedFrames).toBe(3000);
    expect(stats.droppedBytes).toBe(bytes);
  });
});

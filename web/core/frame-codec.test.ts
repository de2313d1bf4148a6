import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.ts';
import {
  decodeFrame,
  encodedFrameLength,
  encodeFrame,
  encodeFrameInto,
  type Frame,
  peekFrameLength,
  prepareFrame,
} from './frame-codec.ts';
import {
  PIXEL_FORMATS,
  type PixelFormat,
  type RuntimeData,
  TENSOR_ARRAY_TYPES,
  type TensorDType,
} from './runtime-data.ts';

const timestamp = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), {
  nil: undefined,
});
const withTime = <T extends RuntimeData>(arb: fc.Arbitrary<T>) =>
  fc.tuple(arb, timestamp).map(([d, t]) => (t === undefined ? d : { ...d, timestampUs: t }));

const audio = fc
  .tuple(
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: 0, max: 64 }),
    fc.integer({ min: 1, max: 384_000 }),
  )
  .chain(([channels, frames, sampleRate]) =>
    fc
      .float32Array({ minLength: channels * frames, maxLength: channels * frames })
      .map((samples): RuntimeData => ({ kind: 'audio', samples, sampleRate, channels })),
  );

const tensor = fc
  .tuple(
    fc.constantFrom(...(Object.keys(TENSOR_ARRAY_TYPES) as TensorDType[])),
    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
  )
  .chain(([dtype, shape]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const ArrayType = TENSOR_ARRAY_TYPES[dtype];
    return fc
      .uint8Array({
        minLength: count * ArrayType.BYTES_PER_ELEMENT,
        maxLength: count * ArrayType.BYTES_PER_ELEMENT,
      })
      .map(
        (bytes) =>
          ({ kind: 'tensor', dtype, shape, data: new ArrayType(bytes.buffer) }) as RuntimeData,
      );
  });

const video = fc
  .tuple(
    fc.constantFrom(...(Object.keys(PIXEL_FORMATS) as PixelFormat[])),
    fc.integer({ min: 1, max: 9 }),
    fc.integer({ min: 1, max: 9 }),
  )
  .chain(([format, width, height]) => {
    const n = PIXEL_FORMATS[format](width, height);
    return fc
      .uint8Array({ minLength: n, maxLength: n })
      .map((data): RuntimeData => ({ kind: 'video', width, height, format, data }));
  });

const runtimeData: fc.Arbitrary<RuntimeData> = fc.oneof(
  withTime(audio),
  withTime(fc.string({ unit: 'grapheme' }).map((text): RuntimeData => ({ kind: 'text', text }))),
  withTime(
    fc
      .jsonValue()
      .map((value): RuntimeData => ({ kind: 'json', value: JSON.parse(JSON.stringify(value)) })),
  ),
  withTime(
    fc
      .tuple(fc.uint8Array({ maxLength: 256 }), fc.option(fc.string(), { nil: undefined }))
      .map(([bytes, mimeType]): RuntimeData =>
        mimeType === undefined ? { kind: 'binary', bytes } : { kind: 'binary', bytes, mimeType },
      ),
  ),
  withTime(tensor),
  withTime(video),
  withTime(
    fc
      .constantFrom('end_of_stream', 'flush')
      .map((signal): RuntimeData => ({ kind: 'control', signal })),
  ),
  withTime(
    fc
      .tuple(
        fc.string({ minLength: 1, unit: 'grapheme' }),
        fc.option(fc.jsonValue(), { nil: undefined }),
      )
      .map(([name, payload]): RuntimeData =>
        payload === undefined
          ? { kind: 'event', name }
          : { kind: 'event', name, payload: JSON.parse(JSON.stringify(payload)) },
      ),
  ),
);

const frame: fc.Arbitrary<Frame> = fc.record({
  sequence: fc.integer({ min: 0, max: 0xffff_ffff }),
  data: runtimeData,
});

/** The array a kind's payload is decoded into (undefined for kinds without one). */
const payloadOf = (data: RuntimeData) =>
  data.kind === 'audio'
    ? data.samples
    : data.kind === 'tensor' || data.kind === 'video'
      ? data.data
      : data.kind === 'binary'
        ? data.bytes
        : undefined;

function expectCodecError(fn: () => unknown): void {
  expect(fn).toThrow(expect.objectContaining({ kind: 'frame_codec' }));
}

describe('frame codec', () => {
  // The gateway encodes into a reused buffer (and the rings into their staging area):
  // a byte the encoder did not write would carry an older frame's bytes out.
  it('writes every byte of a frame: into a dirty buffer, the same bytes as encodeFrame', () => {
    fc.assert(
      fc.property(frame, fc.integer({ min: 0, max: 255 }), (f, dirt) => {
        const clean = encodeFrame(f);
        const target = new Uint8Array(clean.length + 16).fill(dirt);
        expect(encodeFrameInto(f, target, 8)).toBe(clean.length);
        expect(target.subarray(8, 8 + clean.length)).toEqual(clean);
        const prepared = prepareFrame(f);
        target.fill(dirt ^ 0xff);
        prepared.writeInto(target, 3);
        expect(target.subarray(3, 3 + clean.length)).toEqual(clean);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips every RuntimeData kind byte-exact', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const bytes = encodeFrame(f);
        expect(bytes.length).toBe(encodedFrameLength(f));
        expect(peekFrameLength(bytes)).toBe(bytes.length);
        const decoded = decodeFrame(bytes);
        expect(decoded.sequence).toBe(f.sequence);
        expect(decoded.data.kind).toBe(f.data.kind);
        expect(encodeFrame(decoded)).toEqual(bytes);
        if (f.data.kind !== 'json' && f.data.kind !== 'event') expect(decoded.data).toEqual(f.data);
      }),
      { numRuns: 500 },
    );
  });

  it("decodes audio from a view into a larger buffer at an odd offset (as Node's Buffer pool hands out)", () => {
    const frame: Frame = {
      sequence: 1,
      data: {
        kind: 'audio',
        samples: new Float32Array([0.25, -0.5, 1]),
        sampleRate: 16000,
        channels: 1,
      },
    };
    const bytes = encodeFrame(frame);
    const pool = new Uint8Array(bytes.length + 3);
    pool.set(bytes, 3);
    const view = new (class extends Uint8Array {
      // Node's Buffer: slice() is a view, not a copy.
      override slice(start?: number, end?: number) {
        return this.subarray(start, end);
      }
    })(pool.buffer, 3, bytes.length);
    expect(decodeFrame(view).data).toEqual(frame.data);
  });

  it('decodes payloads into what `allocate` gives when it is aligned and exact, else into a fresh buffer', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const bytes = encodeFrame(f);
        // A shared block handed out in 8-aligned slices, as Node's Buffer pool does.
        const block = new ArrayBuffer(bytes.length + 64);
        const pooled = decodeFrame(bytes, { allocate: (n) => new Uint8Array(block, 8, n) });
        expect(encodeFrame(pooled)).toEqual(bytes);
        if (f.data.kind !== 'json' && f.data.kind !== 'event') expect(pooled.data).toEqual(f.data);
        const payload = payloadOf(pooled.data);
        if (payload) expect([payload.buffer, payload.byteOffset]).toEqual([block, 8]);
        // Unaligned, or not the length asked for: not used.
        for (const allocate of [
          (n: number) => new Uint8Array(block, 4, n),
          (n: number) => new Uint8Array(n + 1),
        ]) {
          const decoded = decodeFrame(bytes, { allocate });
          expect(encodeFrame(decoded)).toEqual(bytes);
          const array = payloadOf(decoded.data);
          if (array) expect([array.buffer === block, array.byteOffset]).toEqual([false, 0]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decodes in place at every offset: payloads are 8-aligned views of the frame bytes, the same values; shared memory is copied', () => {
    fc.assert(
      fc.property(frame, fc.integer({ min: 0, max: 15 }), (f, offset) => {
        const clean = encodeFrame(f);
        // A frame at any offset of a larger buffer, as ws hands out a message within a socket read.
        const block = new ArrayBuffer(clean.length + 32);
        new Uint8Array(block).fill(0xa5);
        const bytes = new Uint8Array(block, offset, clean.length);
        bytes.set(clean);
        const decoded = decodeFrame(bytes, { inPlace: true });
        expect(decoded.sequence).toBe(f.sequence);
        expect(encodeFrame(decoded)).toEqual(clean);
        if (f.data.kind !== 'json' && f.data.kind !== 'event') expect(decoded.data).toEqual(f.data);
        const payload = payloadOf(decoded.data);
        if (payload) {
          expect(payload.buffer).toBe(block);
          expect(payload.byteOffset % 8).toBe(0);
          // Within the frame's own bytes: nothing around them was written.
          expect(payload.byteOffset).toBeGreaterThanOrEqual(offset);
          expect(payload.byteOffset + payload.byteLength).toBeLessThanOrEqual(
            offset + clean.length,
          );
        }
        const around = new Uint8Array(block);
        expect([...around.subarray(0, offset), ...around.subarray(offset + clean.length)]).toEqual(
          Array(block.byteLength - clean.length).fill(0xa5),
        );
        // On a SharedArrayBuffer (a ring), the frame is left as it is and copied out.
        const ring = new Uint8Array(new SharedArrayBuffer(clean.length + 8), 3, clean.length);
        ring.set(clean);
        const fromRing = decodeFrame(ring, { inPlace: true });
        expect(ring).toEqual(clean);
        expect(encodeFrame(fromRing)).toEqual(clean);
        const copied = payloadOf(fromRing.data);
        if (copied) expect(copied.buffer instanceof SharedArrayBuffer).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a leading U+FEFF in text: it is what the sender wrote', () => {
    const frame: Frame = { sequence: 1, data: { kind: 'text', text: '\ufeffx' } };
    expect(decodeFrame(encodeFrame(frame)).data).toEqual({ kind: 'text', text: '\ufeffx' });
  });

  it('rejects every truncation of a frame', () => {
    fc.assert(
      fc.property(frame, fc.nat(), (f, cut) => {
        const bytes = encodeFrame(f);
        const length = cut % bytes.length;
        expectCodecError(() => decodeFrame(bytes.subarray(0, length)));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any corrupted byte (the CRC catches what the structure checks do not)', () => {
    fc.assert(
      fc.property(frame, fc.nat(), fc.integer({ min: 1, max: 255 }), (f, at, flip) => {
        const bytes = encodeFrame(f);
        bytes[at % bytes.length]! ^= flip;
        expectCodecError(() => decodeFrame(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects trailing bytes, foreign data and future versions with what it expected', () => {
    const bytes = encodeFrame({ sequence: 1, data: { kind: 'text', text: 'hi' } });
    expect(() => decodeFrame(new Uint8Array([...bytes, 0]))).toThrow(/1 trailing bytes/);
    expect(() =>
      decodeFrame(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\nxxxxxxxxxxx')),
    ).toThrow(/magic "RM" missing/);
    const future = bytes.slice();
    future[2] = 2;
    expect(() => decodeFrame(future)).toThrow(
      /version 2 is not supported; this runtime reads version 1/,
    );
  });

  it('refuses to encode data that breaks the RuntimeData contract, naming the field', () => {
    const bad = {
      kind: 'audio',
      samples: new Float32Array(3),
      sampleRate: 48000,
      channels: 2,
    } as const;
    expect(() => encodeFrame({ sequence: 0, data: bad })).toThrow(
      expect.objectContaining({ kind: 'invalid_data', path: 'samples.length' }),
    );
    expect(() => encodeFrame({ sequence: -1, data: { kind: 'text', text: '' } })).toThrow(
      /sequence/,
    );
  });

  it('encodes into a larger buffer at an offset, as a ring buffer does', () => {
    const f: Frame = {
      sequence: 7,
      data: {
        kind: 'audio',
        samples: new Float32Array([0.5, -0.5]),
        sampleRate: 16000,
        channels: 1,
      },
    };
    const target = new Uint8Array(256);
    const written = encodeFrameInto(f, target, 40);
    expect(decodeFrame(target.subarray(40, 40 + written))).toEqual(f);
    expect(() => encodeFrameInto(f, target, 250)).toThrow(
      expect.objectContaining({ kind: 'frame_codec' }),
    );
  });

  it('keeps the v1 layout stable (the Python twin reads these exact bytes)', () => {
    const bytes = encodeFrame({
      sequence: 3,
      data: {
        kind: 'audio',
        samples: new Float32Array([1, -1]),
        sampleRate: 16000,
        channels: 1,
        timestampUs: 20_000,
      },
    });
    expect(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')).toBe(
      // magic, version 1, kind audio, flags timestamp, reserved | sequence 3 | body 16 bytes
      '524d010101000000' +
        '03000000' +
        '10000000' +
        // timestampUs 20000.0 | sampleRate 16000, channels 1 | samples 1.0, -1.0 | CRC-32
        '000000000088d340' +
        '803e0000' +
        '01000000' +
        '0000803f' +
        '000080bf' +
        '3e923d6a',
    );
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

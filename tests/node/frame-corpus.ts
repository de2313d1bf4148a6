/**
 * A corpus of mutated frame-codec frames for the codec parity test: valid frames of
 * every RuntimeData kind, mutated (random bytes, header fields, string lengths,
 * dimensions, hostile UTF-8 and JSON), then usually re-framed — body length fixed
 * and CRC recomputed — so that the mutation reaches past the length and checksum
 * checks to the checks behind them. Deterministic for a seed.
 */
import { crc32 } from '../../web/core/crc32.ts';
import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES } from '../../web/core/frame-codec.ts';
import {
  type JsonValue,
  type RuntimeData,
  RuntimeData as RD,
} from '../../web/core/runtime-data.ts';

/** mulberry32: small, fast, and the same numbers on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytesOf = (...values: number[]) => new Uint8Array(values);
const utf8 = new TextEncoder();

/** Valid data of every kind, with and without the optional parts. */
export function seedData(): RuntimeData[] {
  return [
    RD.audio(new Float32Array([0, 0.5, -1, 1]), 48000),
    RD.audio(new Float32Array([0.25, -0.25, 0.125, 3]), 16000, 2, 1_000_000),
    RD.audio(new Float32Array([]), 8000),
    RD.text(''),
    RD.text('hello', 20_000),
    RD.text('héllo wörld ✓ 🎧'),
    RD.json(null),
    RD.json(42),
    RD.json({ a: [1, 2.5, -3e-7], b: 'x"y\\z', c: { d: true, e: false } }, 5),
    RD.json('unicode ✓ \u0001 escape'),
    RD.json([12345678901234, -0.5, 1e300]),
    RD.binary(bytesOf(1, 2, 3, 255)),
    RD.binary(bytesOf(0, 1), 'audio/wav'),
    RD.binary(new Uint8Array(0), ''),
    { ...RD.binary(bytesOf(9, 8, 7), 'application/x-ü'), timestampUs: 7 },
    RD.tensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])),
    RD.tensor('int64', [2], new BigInt64Array([1n, -2n])),
    RD.tensor('uint8', [0], new Uint8Array(0)),
    RD.tensor('float64', [], new Float64Array([Math.PI])),
    RD.tensor('int16', [1, 2, 2], new Int16Array([1, -1, 300, -300])),
    RD.tensor('uint64', [1], new BigUint64Array([2n ** 63n])),
    RD.video(2, 2, 'rgba8', new Uint8Array(16).fill(7)),
    RD.video(3, 3, 'i420', new Uint8Array(9 + 8).fill(1)),
    RD.video(1, 1, 'gray8', bytesOf(128)),
    RD.video(4, 2, 'nv12', new Uint8Array(8 + 4)),
    RD.video(2, 1, 'rgb8', new Uint8Array(6)),
    RD.control('end_of_stream'),
    RD.control('flush'),
    RD.event('speech_start', 1500),
    RD.event('speech_end', 3000, { segment: [1500, 3000], confidence: 0.9 }),
    RD.event('é', undefined, 'only a string'),
    RD.event('empty-list', undefined, []),
  ];
}

/** Bodies that stress a JSON or text decoder: each differs between lax parsers. */
const HOSTILE_TEXT = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  ' 1 ',
  '[1,]',
  '{"a":1,"a":2}',
  '-0',
  '12345678901234567890123',
  '"\\ud800"',
  'tru',
  '',
  '\u00a01',
  '01',
  '1.',
  '{"a":1}x',
  '"\t"',
  '[1]\n',
  '\ufeff1',
  '\ufeff',
];
const HOSTILE_UTF8 = [
  bytesOf(0xff),
  bytesOf(0xc0, 0x80),
  bytesOf(0xed, 0xa0, 0x80),
  bytesOf(0xf4, 0x90, 0x80, 0x80),
  bytesOf(0xe2, 0x82),
  bytesOf(0xef, 0xbb, 0xbf),
];
const FLOATS = [0, -0, 1, 1e-300, NaN, Infinity, -Infinity, 2 ** 53];

/** One mutated frame. `content` is header + body; the CRC is added by `frame`. */
function mutate(random: () => number, valid: Uint8Array): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  let content: Uint8Array = valid.slice(0, valid.length - 4);
  const body = () => FRAME_HEADER_BYTES + int(Math.max(1, content.length - FRAME_HEADER_BYTES));
  // Field writes that fall outside a (truncated) frame are skipped.
  const put = (at: number, size: number, write: (view: DataView) => void) => {
    if (at + size <= content.length) write(new DataView(content.buffer, content.byteOffset));
  };
  const splice = (start: number, count: number, insert: Uint8Array) => {
    const at = Math.min(start, content.length);
    const remove = Math.min(count, content.length - at);
    const out = new Uint8Array(content.length - remove + insert.length);
    out.set(content.subarray(0, at));
    out.set(insert, at);
    out.set(content.subarray(at + remove), at + insert.length);
    content = out;
  };
  const operations = 1 + int(3);
  for (let i = 0; i < operations; i++) {
    const op = int(17);
    if (op === 0 && content.length > 0) content[int(content.length)] = int(256);
    else if (op === 1 && content.length > 0) content[int(content.length)]! ^= 1 << int(8);
    else if (op === 2) content[4] = [0, 1, 2, 3, 4, 8, 0x80, 0xff][int(8)]!;
    else if (op === 3) content[5 + int(3)] = 1 + int(255);
    else if (op === 4) put(16, 8, (v) => v.setFloat64(16, FLOATS[int(FLOATS.length)]!, true));
    else if (op === 5) content[3] = int(10);
    else if (op === 6) {
      // A u16 field near the body's start (sizes, string lengths, dimensions).
      const at = FRAME_HEADER_BYTES + 4 * int(3);
      const value = int(6) === 0 ? int(65536) : int(12);
      put(at, 2, (v) => v.setUint16(at, value, true));
    } else if (op === 7) {
      const at = FRAME_HEADER_BYTES + 4 * int(2);
      const value = [0, 1, 2, 3, 5, 0xffffffff][int(6)]!;
      put(at, 4, (v) => v.setUint32(at, value, true));
    } else if (op === 8) {
      splice(body(), 0, HOSTILE_UTF8[int(HOSTILE_UTF8.length)]!);
    } else if (op === 9) {
      // Replace the body (after a kind's fixed fields, or all of it) by hostile text.
      const keep = [0, 0, 2, 2 + int(4)][int(4)]!;
      const at = Math.min(content.length, FRAME_HEADER_BYTES + keep);
      splice(at, content.length - at, utf8.encode(HOSTILE_TEXT[int(HOSTILE_TEXT.length)]!));
    } else if (op === 10)
      splice(body(), 0, bytesOf(...Array.from({ length: 1 + int(8) }, () => int(256))));
    else if (op === 11 && content.length > FRAME_HEADER_BYTES)
      splice(body(), 1 + int(4), new Uint8Array(0));
    else if (op === 12) content = content.slice(0, int(content.length + 1));
    else if (op === 13) splice(content.length, 0, new Uint8Array(1 + int(8)));
    else if (op === 14 && content.length > FRAME_HEADER_BYTES + 1) {
      content[FRAME_HEADER_BYTES + int(2)] = int(256); // tensor dtype/rank, control signal, ...
    } else if (op === 15 && content.length > FRAME_HEADER_BYTES + 3) {
      content[FRAME_HEADER_BYTES + 2 + int(2)] = 1 + int(255); // tensor/audio reserved
    } else if (op === 16 && content[3] === 6 && content.length >= FRAME_HEADER_BYTES + 12) {
      // A zero video dimension with no pixels: the size matches, the dimension does not.
      const at = FRAME_HEADER_BYTES + 4 * int(2);
      put(at, 4, (v) => v.setUint32(at, 0, true));
      content = content.slice(0, FRAME_HEADER_BYTES + 12);
    }
  }
  return content;
}

/** Header + body made into a frame: usually consistent, sometimes not. */
function frame(random: () => number, content: Uint8Array): Uint8Array {
  if (content.length >= FRAME_HEADER_BYTES && random() < 0.9) {
    new DataView(content.buffer, content.byteOffset).setUint32(
      12,
      content.length - FRAME_HEADER_BYTES,
      true,
    );
  }
  let out = new Uint8Array(content.length + 4);
  out.set(content);
  const crc = random() < 0.92 ? crc32(content) : Math.floor(random() * 2 ** 32);
  new DataView(out.buffer).setUint32(content.length, crc, true);
  const tail = random();
  if (tail < 0.02) out = out.slice(0, Math.floor(random() * out.length));
  else if (tail < 0.04) {
    const longer = new Uint8Array(out.length + 1 + Math.floor(random() * 4));
    longer.set(out);
    out = longer;
  }
  return out;
}

/** `count` frames: every valid seed once, then mutations of them. */
export function frameCorpus(seed: number, count: number): Uint8Array[] {
  const random = prng(seed);
  const valid = seedData().map((data, i) => encodeFrame({ sequence: i + 1, data }));
  const corpus = valid.slice(0, count);
  while (corpus.length < count) {
    const original = valid[Math.floor(random() * valid.length)]!;
    corpus.push(frame(random, mutate(random, original)));
  }
  return corpus;
}

/**
 * What a decoder made of a frame, in a form both codecs can print: null for a
 * refusal; else the sequence and the data with bytes as hex. An event's payload
 * `null` and no payload are one value: Python's RuntimeData has one None for both.
 */
export type Decoded = { sequence: number; data: Record<string, JsonValue> } | null;

export function decodeForParity(bytes: Uint8Array): Decoded {
  let decoded;
  try {
    decoded = decodeFrame(bytes);
  } catch {
    return null;
  }
  const { data } = decoded;
  const ts = data.timestampUs ?? null;
  const hex = (view: ArrayBufferView) =>
    Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('hex');
  const out: Record<string, JsonValue> = { kind: data.kind, ts };
  switch (data.kind) {
    case 'audio':
      Object.assign(out, {
        rate: data.sampleRate,
        channels: data.channels,
        samples: hex(data.samples),
      });
      break;
    case 'text':
      out.text = data.text;
      break;
    case 'json':
      out.value = data.value;
      break;
    case 'binary':
      Object.assign(out, { mime: data.mimeType ?? null, bytes: hex(data.bytes) });
      break;
    case 'tensor':
      Object.assign(out, { dtype: data.dtype, shape: data.shape, data: hex(data.data) });
      break;
    case 'video':
      Object.assign(out, {
        width: data.width,
        height: data.height,
        format: data.format,
        data: hex(data.data),
      });
      break;
    case 'control':
      out.signal = data.signal;
      break;
    case 'event':
      Object.assign(out, { name: data.name, payload: data.payload ?? null });
      break;
  }
  return { sequence: decoded.sequence, data: out };
}

/** A canonical text of a decoded value (sorted keys; numbers as JSON has them). */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value)) as unknown));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * The frame codec: one binary encoding of RuntimeData, shared by ring buffers, the
 * gateway WebSocket and the pipes to CPython (python-packages/remotemedia has its
 * twin). Layout, all integers little-endian:
 *
 *   offset size
 *   0      2    magic "RM"
 *   2      1    version (FRAME_VERSION)
 *   3      1    kind code (KIND_CODES)
 *   4      1    flags: bit 0 timestamp present, bit 1 optional field present
 *                (binary mimeType, event payload)
 *   5      3    reserved, zero
 *   8      4    sequence number (u32)
 *   12     4    body length in bytes (u32)
 *   16     8    timestampUs (f64; 0 when absent)
 *   24     n    body, per kind (see encodeBody)
 *   24+n   4    CRC-32 of bytes [0, 24+n) (0 in ring frames: see CodecOptions)
 *
 * Audio samples and tensor data start 8-byte aligned relative to the frame start,
 * so a reader whose frame is aligned can view them without copying. Decoding checks
 * every length against the bytes present and the CRC, so a truncated or corrupted
 * frame is a `frame_codec` error, never a crash or a wrong value.
 *
 * `{ checksum: false }` (CodecOptions) is for frames that never leave the process's
 * memory: the ring buffers between threads (web/runtime/ring/frame-ring.ts). There
 * the encoder writes 0 in the CRC field instead of computing it and the decoder does
 * not look at the field; every other check stays. The layout is the same (no flag
 * bit), so a frame written that way and sent anywhere else — the gateway, CPython —
 * is refused there as a CRC mismatch: a wire never carries an unchecked frame.
 */
import { crc32 } from './crc32.ts';
import { RemoteMediaError } from './errors.ts';
import {
  assertValidRuntimeData,
  type ControlSignal,
  type JsonValue,
  PIXEL_FORMATS,
  type PixelFormat,
  type RuntimeData,
  type RuntimeDataKind,
  TENSOR_ARRAY_TYPES,
  type TensorData,
  type TensorDType,
} from './runtime-data.ts';

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 24;
export const FRAME_TRAILER_BYTES = 4;
const FRAME_OVERHEAD = FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES;
const MAGIC_0 = 0x52; // 'R'
const MAGIC_1 = 0x4d; // 'M'
const FLAG_TIMESTAMP = 1;
const FLAG_OPTIONAL = 2;
const KNOWN_FLAGS = FLAG_TIMESTAMP | FLAG_OPTIONAL;

/** How a frame is sealed and checked. */
export interface CodecOptions {
  /**
   * Compute (encode) and verify (decode) the CRC-32; true unless given. False only
   * where the bytes stay in shared memory of one process: a CRC there guards against
   * nothing, and on a ring round trip it was a quarter of each thread's busy time.
   */
  readonly checksum?: boolean;
  /**
   * Decoding: where a payload (audio samples, tensor data, bytes, pixels) is copied
   * to. It must return exactly `length` bytes that start 8-aligned in their buffer
   * and that nobody else writes; the decoded frame's arrays are views of them (so
   * `array.buffer` may be larger than the array: use byteOffset). Default: a fresh
   * ArrayBuffer per payload. On Node, Buffer.allocUnsafe qualifies (Node aligns its
   * pool to 8) and costs a slice of a pooled block instead of an ArrayBuffer of its
   * own per frame; a result that is not aligned or not that length is not used.
   */
  readonly allocate?: (length: number) => Uint8Array<ArrayBuffer>;
  /**
   * Decoding: the payload stays in the frame's own bytes, moved back by up to 7 bytes
   * (over the header, already read and checked) so that it starts 8-aligned, and the
   * decoded arrays are views of it: no copy into memory of its own. Only for bytes
   * that are the caller's alone and that nobody reads or writes after this call but
   * through the decoded frame (the gateway's WebSocket messages: ws makes each one
   * for its listener, and the gateway has the one listener). `bytes` is changed; a
   * frame on a SharedArrayBuffer is copied as without. Where each 20 ms input frame
   * was a 3.8 KB copy into slab memory, V8 counted that ArrayBuffer memory toward its
   * next scavenge and mark-compact (bench/gateway-profile.ts counts them).
   */
  readonly inPlace?: boolean;
}

/** A RuntimeData with its position in a stream. */
export interface Frame {
  sequence: number;
  data: RuntimeData;
}

export const KIND_CODES: Readonly<Record<RuntimeDataKind, number>> = {
  audio: 1,
  text: 2,
  json: 3,
  binary: 4,
  tensor: 5,
  video: 6,
  control: 7,
  event: 8,
};
const KIND_BY_CODE = invert(KIND_CODES);

const DTYPE_CODES: Readonly<Record<TensorDType, number>> = {
  float32: 1,
  float64: 2,
  int8: 3,
  uint8: 4,
  int16: 5,
  uint16: 6,
  int32: 7,
  uint32: 8,
  int64: 9,
  uint64: 10,
};
const DTYPE_BY_CODE = invert(DTYPE_CODES);

const PIXEL_FORMAT_CODES: Readonly<Record<PixelFormat, number>> = {
  rgba8: 1,
  rgb8: 2,
  gray8: 3,
  i420: 4,
  nv12: 5,
};
const PIXEL_FORMAT_BY_CODE = invert(PIXEL_FORMAT_CODES);

const SIGNAL_CODES: Readonly<Record<ControlSignal, number>> = {
  end_of_stream: 1,
  flush: 2,
  interrupt: 3,
};
const SIGNAL_BY_CODE = invert(SIGNAL_CODES);

function invert<K extends string>(codes: Readonly<Record<K, number>>): Map<number, K> {
  return new Map(Object.entries(codes).map(([k, v]) => [v as number, k as K]));
}

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();
// ignoreBOM: a leading U+FEFF is text the sender wrote, not a marker to drop.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function codecError(path: string, message: string): RemoteMediaError {
  return new RemoteMediaError('frame_codec', `Frame codec: ${path}: ${message}`, { path });
}

// Little-endian stores straight into the target bytes: no DataView (an object per
// frame) and no closure per frame on the encode path.
function setU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
}
function setU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}
/** A float64's bytes, little-endian (the platform is checked to be little-endian). */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/**
 * A body measured, with what writing it needs beside the data: the encoded strings
 * (`first`, `second`) that its length depended on. One plain object per frame.
 */
class BodyPlan {
  constructor(
    readonly data: RuntimeData,
    readonly length: number,
    readonly optional: boolean,
    readonly first?: Uint8Array,
    readonly second?: Uint8Array,
  ) {}
}

function rawBytes(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function planBody(data: RuntimeData): BodyPlan {
  switch (data.kind) {
    case 'audio':
      return new BodyPlan(data, 8 + data.samples.byteLength, false);
    case 'text': {
      const text = utf8.encode(data.text);
      return new BodyPlan(data, text.length, false, text);
    }
    case 'json': {
      const text = utf8.encode(JSON.stringify(data.value));
      return new BodyPlan(data, text.length, false, text);
    }
    case 'binary': {
      const mime = utf8.encode(data.mimeType ?? '');
      if (mime.length > 0xffff) throw codecError('mimeType', 'longer than 65535 bytes');
      return new BodyPlan(
        data,
        2 + mime.length + data.bytes.length,
        data.mimeType !== undefined,
        mime,
      );
    }
    case 'tensor':
      return new BodyPlan(data, tensorHeadLength(data.shape.length) + data.data.byteLength, false);
    case 'video':
      return new BodyPlan(data, 12 + data.data.length, false);
    case 'control':
      return new BodyPlan(data, 1, false);
    case 'event': {
      const name = utf8.encode(data.name);
      if (name.length > 0xffff) throw codecError('name', 'longer than 65535 bytes');
      const payload =
        data.payload === undefined ? undefined : utf8.encode(JSON.stringify(data.payload));
      return new BodyPlan(
        data,
        2 + name.length + (payload?.length ?? 0),
        payload !== undefined,
        name,
        payload,
      );
    }
  }
}

/** Writes a planned body at `bytes[at]`. */
function writeBody(plan: BodyPlan, bytes: Uint8Array, at: number): void {
  const data = plan.data;
  switch (data.kind) {
    case 'audio':
      setU32(bytes, at, data.sampleRate);
      setU16(bytes, at + 4, data.channels);
      setU16(bytes, at + 6, 0);
      bytes.set(rawBytes(data.samples), at + 8);
      return;
    case 'text':
    case 'json':
      bytes.set(plan.first!, at);
      return;
    case 'binary':
      setU16(bytes, at, plan.first!.length);
      bytes.set(plan.first!, at + 2);
      bytes.set(data.bytes, at + 2 + plan.first!.length);
      return;
    case 'tensor': {
      const head = tensorHeadLength(data.shape.length);
      bytes[at] = DTYPE_CODES[data.dtype];
      bytes[at + 1] = data.shape.length;
      setU16(bytes, at + 2, 0);
      for (let i = 0; i < data.shape.length; i++) setU32(bytes, at + 4 + 4 * i, data.shape[i]!);
      bytes.fill(0, at + 4 + 4 * data.shape.length, at + head);
      bytes.set(rawBytes(data.data), at + head);
      return;
    }
    case 'video':
      setU32(bytes, at, data.width);
      setU32(bytes, at + 4, data.height);
      setU32(bytes, at + 8, PIXEL_FORMAT_CODES[data.format]);
      bytes.set(data.data, at + 12);
      return;
    case 'control':
      bytes[at] = SIGNAL_CODES[data.signal];
      return;
    case 'event':
      setU16(bytes, at, plan.first!.length);
      bytes.set(plan.first!, at + 2);
      if (plan.second) bytes.set(plan.second, at + 2 + plan.first!.length);
      return;
  }
}

/** Bytes before tensor data: dtype, rank, reserved, shape, padded so data is 8-aligned. */
function tensorHeadLength(rank: number): number {
  const unpadded = 4 + 4 * rank;
  return unpadded + ((8 - ((FRAME_HEADER_BYTES + unpadded) % 8)) % 8);
}

/** Encodes a frame into a new buffer. Validates the data first. */
export function encodeFrame(frame: Frame, options?: CodecOptions): Uint8Array {
  const plan = prepare(frame);
  const out = new Uint8Array(FRAME_OVERHEAD + plan.length);
  writePlanned(frame, plan, out, 0, options?.checksum !== false);
  return out;
}

/** The exact number of bytes encodeFrame would produce for this frame. */
export function encodedFrameLength(frame: Frame): number {
  return FRAME_OVERHEAD + prepare(frame).length;
}

/** A frame validated and measured once, to be written straight where its bytes go. */
export interface PreparedFrame {
  /** The exact encoded length in bytes. */
  readonly length: number;
  /**
   * Writes the frame's bytes at `target[offset]`; the caller guarantees the room.
   * `options.checksum === false` writes CRC 0 (in-process rings only, see CodecOptions).
   */
  writeInto(target: Uint8Array, offset: number, options?: CodecOptions): void;
}

/** PreparedFrame as a class: its method is not a closure made per frame. */
class Prepared implements PreparedFrame {
  readonly length: number;

  constructor(
    private readonly frame: Frame,
    private readonly plan: BodyPlan,
  ) {
    this.length = FRAME_OVERHEAD + plan.length;
  }

  writeInto(target: Uint8Array, offset: number, options?: CodecOptions): void {
    writePlanned(this.frame, this.plan, target, offset, options?.checksum !== false);
  }
}

/**
 * Validates and measures a frame without encoding it, so that a ring can reserve
 * exactly `length` bytes and the frame be encoded into them (one copy, no staging).
 */
export function prepareFrame(frame: Frame): PreparedFrame {
  return new Prepared(frame, prepare(frame));
}

/**
 * Encodes a frame into `target` at `offset` (e.g. a ring buffer's staging area) and
 * returns the number of bytes written. Throws a `frame_codec` error when it does not fit.
 */
export function encodeFrameInto(frame: Frame, target: Uint8Array, offset = 0): number {
  const plan = prepare(frame);
  const total = FRAME_OVERHEAD + plan.length;
  if (offset < 0 || offset + total > target.length) {
    throw codecError('target', `needs ${total} bytes at offset ${offset}, has ${target.length}`);
  }
  writePlanned(frame, plan, target, offset, true);
  return total;
}

function prepare(frame: Frame): BodyPlan {
  if (!Number.isInteger(frame.sequence) || frame.sequence < 0 || frame.sequence > 0xffff_ffff) {
    throw codecError(
      'sequence',
      `must be an integer from 0 to 4294967295, found ${frame.sequence}`,
    );
  }
  if (!IS_LITTLE_ENDIAN) throw codecError('platform', 'big-endian platforms are not supported');
  assertValidRuntimeData(frame.data);
  const plan = planBody(frame.data);
  if (plan.length > 0xffff_ffff - FRAME_OVERHEAD) {
    throw codecError('body', `${plan.length} bytes is over the 4 GiB frame limit`);
  }
  return plan;
}

function writePlanned(
  frame: Frame,
  plan: BodyPlan,
  target: Uint8Array,
  offset: number,
  checksum: boolean,
): void {
  const { data } = frame;
  const hasTime = data.timestampUs !== undefined;
  target[offset] = MAGIC_0;
  target[offset + 1] = MAGIC_1;
  target[offset + 2] = FRAME_VERSION;
  target[offset + 3] = KIND_CODES[data.kind];
  target[offset + 4] = (hasTime ? FLAG_TIMESTAMP : 0) | (plan.optional ? FLAG_OPTIONAL : 0);
  target[offset + 5] = 0;
  setU16(target, offset + 6, 0);
  setU32(target, offset + 8, frame.sequence);
  setU32(target, offset + 12, plan.length);
  F64[0] = hasTime ? data.timestampUs! : 0;
  target.set(F64_BYTES, offset + 16);
  writeBody(plan, target, offset + FRAME_HEADER_BYTES);
  const end = offset + FRAME_HEADER_BYTES + plan.length;
  setU32(target, end, checksum ? crc32(target, offset, end) : 0);
}

/**
 * The total length of the frame starting at `offset`, read from its header, or
 * undefined when fewer than FRAME_HEADER_BYTES bytes are there yet. Use it to
 * split a byte stream into frames; it checks the magic and version.
 */
export function peekFrameLength(bytes: Uint8Array, offset = 0): number | undefined {
  if (bytes.length - offset < FRAME_HEADER_BYTES) return undefined;
  checkMagicAndVersion(bytes, offset);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER_BYTES);
  return FRAME_OVERHEAD + view.getUint32(12, true);
}

function checkMagicAndVersion(bytes: Uint8Array, offset: number): void {
  if (bytes[offset] !== MAGIC_0 || bytes[offset + 1] !== MAGIC_1) {
    throw codecError('byte 0', 'not a RemoteMedia frame (magic "RM" missing)');
  }
  const version = bytes[offset + 2];
  if (version !== FRAME_VERSION) {
    throw codecError(
      'byte 2',
      `frame version ${version} is not supported; this runtime reads version ${FRAME_VERSION}`,
    );
  }
}

/**
 * Decodes exactly one frame occupying all of `bytes`. The result owns its memory
 * (it is copied out), so the source may be a ring buffer that is reused at once.
 * `options.checksum === false` leaves the CRC field unread (in-process rings only,
 * see CodecOptions); every other check is made either way.
 */
export function decodeFrame(bytes: Uint8Array, options?: CodecOptions): Frame {
  if (bytes.length < FRAME_OVERHEAD) {
    throw codecError(
      'length',
      `truncated: ${bytes.length} bytes, a frame has at least ${FRAME_OVERHEAD}`,
    );
  }
  checkMagicAndVersion(bytes, 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kindCode = view.getUint8(3);
  const kind = KIND_BY_CODE.get(kindCode);
  if (!kind) throw codecError('byte 3', `unknown kind code ${kindCode}`);
  const flags = view.getUint8(4);
  if ((flags & ~KNOWN_FLAGS) !== 0)
    throw codecError('byte 4', `unknown flags 0x${flags.toString(16)}`);
  if (view.getUint8(5) !== 0 || view.getUint16(6, true) !== 0) {
    throw codecError('bytes 5-7', 'reserved bytes must be zero');
  }
  const bodyLength = view.getUint32(12, true);
  const expected = FRAME_OVERHEAD + bodyLength;
  if (bytes.length < expected) {
    throw codecError(
      'length',
      `truncated: header announces ${expected} bytes, found ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw codecError(
      'length',
      `${bytes.length - expected} trailing bytes after a ${expected}-byte frame`,
    );
  }
  if (options?.checksum !== false) {
    const stored = view.getUint32(FRAME_HEADER_BYTES + bodyLength, true);
    const actual = crc32(bytes, 0, FRAME_HEADER_BYTES + bodyLength);
    if (stored !== actual) {
      throw codecError(
        'checksum',
        `CRC-32 mismatch (stored ${hex(stored)}, computed ${hex(actual)})`,
      );
    }
  }
  const timestamp = flags & FLAG_TIMESTAMP ? view.getFloat64(16, true) : undefined;
  if (!(flags & FLAG_TIMESTAMP) && view.getFloat64(16, true) !== 0) {
    throw codecError('bytes 16-23', 'timestamp must be zero when its flag is clear');
  }
  const body = new BodyReader(
    bytes,
    view,
    FRAME_HEADER_BYTES,
    bodyLength,
    options?.allocate,
    options?.inPlace === true && bytes.buffer instanceof ArrayBuffer,
  );
  const data = decodeBody(kind, body, (flags & FLAG_OPTIONAL) !== 0);
  body.expectEnd();
  if (timestamp !== undefined) data.timestampUs = timestamp;
  try {
    assertValidRuntimeData(data);
  } catch (error) {
    throw codecError(`body.${(error as RemoteMediaError).path ?? kind}`, (error as Error).message);
  }
  return { sequence: view.getUint32(8, true), data };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Bounds-checked sequential reads over a frame body. */
class BodyReader {
  private at: number;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    start: number,
    length: number,
    private readonly allocate?: (length: number) => Uint8Array<ArrayBuffer>,
    /** CodecOptions.inPlace, on bytes of an ArrayBuffer. */
    private readonly inPlace = false,
  ) {
    this.at = start;
    this.end = start + length;
  }

  get remaining(): number {
    return this.end - this.at;
  }

  private need(n: number, what: string): number {
    if (n > this.remaining) {
      throw codecError(
        `body.${what}`,
        `needs ${n} bytes at offset ${this.at}, body has ${this.remaining} left`,
      );
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(what: string): number {
    return this.view.getUint8(this.need(1, what));
  }
  u16(what: string): number {
    return this.view.getUint16(this.need(2, what), true);
  }
  u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  /**
   * A copy of the next n bytes, 8-aligned and never shared: in a fresh ArrayBuffer,
   * or in what the decoder's `allocate` gave; in place, the bytes themselves moved
   * to an 8-aligned start (always the last read of a body: nothing after it is read).
   */
  copy(n: number, what: string): Uint8Array<ArrayBuffer> {
    const at = this.need(n, what);
    if (this.inPlace) {
      // Back to the 8-aligned offset at or before it: over bytes already read (a
      // payload comes after at least the 24-byte frame header).
      const to = at - ((this.bytes.byteOffset + at) & 7);
      this.bytes.copyWithin(to, at, at + n);
      return new Uint8Array(this.bytes.buffer as ArrayBuffer, this.bytes.byteOffset + to, n);
    }
    const given = this.allocate?.(n);
    // Not bytes.slice(): a subclass may make it a view (Node's Buffer does).
    const out =
      given && given.length === n && given.byteOffset % 8 === 0 ? given : new Uint8Array(n);
    out.set(this.bytes.subarray(at, at + n));
    return out;
  }
  utf8(n: number, what: string): string {
    const at = this.need(n, what);
    try {
      const view = this.bytes.subarray(at, at + n);
      // A frame decoded in place from a ring lives on a SharedArrayBuffer, which
      // browsers' TextDecoder refuses: decode a copy of just this string then.
      return utf8Strict.decode(view.buffer instanceof ArrayBuffer ? view : view.slice());
    } catch {
      throw codecError(`body.${what}`, 'is not valid UTF-8');
    }
  }
  rest(what: string): Uint8Array<ArrayBuffer> {
    return this.copy(this.remaining, what);
  }
  expectEnd(): void {
    if (this.remaining !== 0) throw codecError('body', `${this.remaining} unread bytes at the end`);
  }
}

function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw codecError(`body.${what}`, `is not valid JSON (${(error as Error).message})`);
  }
}

function decodeBody(kind: RuntimeDataKind, body: BodyReader, optional: boolean): RuntimeData {
  switch (kind) {
    case 'audio': {
      const sampleRate = body.u32('sampleRate');
      const channels = body.u16('channels');
      if (body.u16('reserved') !== 0) throw codecError('body.reserved', 'must be zero');
      if (body.remaining % 4 !== 0) {
        throw codecError(
          'body.samples',
          `${body.remaining} bytes is not a whole number of float32 samples`,
        );
      }
      const raw = body.rest('samples');
      const samples = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
      return { kind, samples, sampleRate, channels };
    }
    case 'text':
      return { kind, text: body.utf8(body.remaining, 'text') };
    case 'json':
      return { kind, value: parseJson(body.utf8(body.remaining, 'json'), 'json') };
    case 'binary': {
      const mimeLength = body.u16('mimeLength');
      const mimeType = body.utf8(mimeLength, 'mimeType');
      if (!optional && mimeLength > 0) throw codecError('body.mimeType', 'present but flag clear');
      const bytes = body.rest('bytes');
      return optional ? { kind, bytes, mimeType } : { kind, bytes };
    }
    case 'tensor': {
      const dtypeCode = body.u8('dtype');
      const dtype = DTYPE_BY_CODE.get(dtypeCode);
      if (!dtype) throw codecError('body.dtype', `unknown dtype code ${dtypeCode}`);
      const rank = body.u8('rank');
      if (body.u16('reserved') !== 0) throw codecError('body.reserved', 'must be zero');
      const shape: number[] = [];
      for (let i = 0; i < rank; i++) shape.push(body.u32(`shape[${i}]`));
      const padding = tensorHeadLength(rank) - (4 + 4 * rank);
      for (let i = 0; i < padding; i++) {
        if (body.u8('padding') !== 0) throw codecError('body.padding', 'must be zero');
      }
      const ArrayType = TENSOR_ARRAY_TYPES[dtype];
      if (body.remaining % ArrayType.BYTES_PER_ELEMENT !== 0) {
        throw codecError('body.data', `${body.remaining} bytes is not a whole number of ${dtype}`);
      }
      const raw = body.rest('data');
      const data = new ArrayType(
        raw.buffer,
        raw.byteOffset,
        raw.length / ArrayType.BYTES_PER_ELEMENT,
      );
      return { kind, dtype, shape, data } as TensorData;
    }
    case 'video': {
      const width = body.u32('width');
      const height = body.u32('height');
      const formatCode = body.u32('format');
      const format = PIXEL_FORMAT_BY_CODE.get(formatCode);
      if (!format) throw codecError('body.format', `unknown pixel format code ${formatCode}`);
      const expected = PIXEL_FORMATS[format](width, height);
      if (body.remaining !== expected) {
        throw codecError(
          'body.data',
          `${format} ${width}x${height} needs ${expected} bytes, found ${body.remaining}`,
        );
      }
      return { kind, width, height, format, data: body.rest('data') };
    }
    case 'control': {
      const code = body.u8('signal');
      const signal = SIGNAL_BY_CODE.get(code);
      if (!signal) throw codecError('body.signal', `unknown control signal code ${code}`);
      return { kind, signal };
    }
    case 'event': {
      const nameLength = body.u16('nameLength');
      const name = body.utf8(nameLength, 'name');
      if (!optional) return { kind, name };
      return { kind, name, payload: parseJson(body.utf8(body.remaining, 'payload'), 'payload') };
    }
  }
}

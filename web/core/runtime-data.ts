/**
 * RuntimeData: the one type of data that flows through every pipeline, worker
 * boundary, ring buffer and network stream. Nodes must treat the data they receive
 * as immutable: with fan-out the same object reaches several nodes.
 */
import { RemoteMediaError } from './errors.ts';

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface Timed {
  /** Presentation time of the frame's start, in microseconds from the start of the stream. */
  timestampUs?: number;
}

/** Interleaved float32 PCM: `samples.length === frames * channels`. */
export interface AudioData extends Timed {
  kind: 'audio';
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

export interface TextData extends Timed {
  kind: 'text';
  text: string;
}

export interface JsonData extends Timed {
  kind: 'json';
  value: JsonValue;
}

export interface BinaryData extends Timed {
  kind: 'binary';
  bytes: Uint8Array;
  mimeType?: string;
}

export interface TensorArrays {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
}
export type TensorDType = keyof TensorArrays;
export type TensorArray = TensorArrays[TensorDType];

/** A dense row-major tensor; `data.length` is the product of `shape`. */
export type TensorData = {
  [D in TensorDType]: Timed & { kind: 'tensor'; dtype: D; shape: number[]; data: TensorArrays[D] };
}[TensorDType];

/** Pixel layouts and the bytes each needs for a width x height frame. */
export const PIXEL_FORMATS = {
  rgba8: (w: number, h: number) => w * h * 4,
  rgb8: (w: number, h: number) => w * h * 3,
  gray8: (w: number, h: number) => w * h,
  i420: (w: number, h: number) => w * h + 2 * Math.ceil(w / 2) * Math.ceil(h / 2),
  nv12: (w: number, h: number) => w * h + 2 * Math.ceil(w / 2) * Math.ceil(h / 2),
} as const;
export type PixelFormat = keyof typeof PIXEL_FORMATS;

export interface VideoData extends Timed {
  kind: 'video';
  width: number;
  height: number;
  format: PixelFormat;
  data: Uint8Array;
}

/**
 * In-band stream control. `end_of_stream` never reaches a node: the executor handles
 * it. `interrupt` (barge-in) tells the nodes downstream that what came before it is
 * stale: nodes named in the manifest's `bargeIn.to` drop their in-flight work.
 */
export type ControlSignal = 'end_of_stream' | 'flush' | 'interrupt';
export interface ControlData extends Timed {
  kind: 'control';
  signal: ControlSignal;
}

/** A named event, such as `speech_start` / `speech_end` with its timestamp. */
export interface EventData extends Timed {
  kind: 'event';
  name: string;
  payload?: JsonValue;
}

export type RuntimeData =
  AudioData | TextData | JsonData | BinaryData | TensorData | VideoData | ControlData | EventData;
export type RuntimeDataKind = RuntimeData['kind'];

export const RUNTIME_DATA_KINDS: readonly RuntimeDataKind[] = [
  'audio',
  'text',
  'json',
  'binary',
  'tensor',
  'video',
  'control',
  'event',
];

export const TENSOR_ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
} as const;

const CONTROL_SIGNALS: readonly ControlSignal[] = ['end_of_stream', 'flush', 'interrupt'];

function invalid(path: string, message: string): RemoteMediaError {
  return new RemoteMediaError('invalid_data', `${path}: ${message}`, { path });
}

function checkTimestamp(d: Timed): void {
  if (d.timestampUs !== undefined && !Number.isFinite(d.timestampUs)) {
    throw invalid('timestampUs', `must be a finite number of microseconds, found ${d.timestampUs}`);
  }
}

function checkPositiveInt(path: string, value: number, max = 0xffff_ffff): void {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw invalid(path, `must be an integer from 1 to ${max}, found ${String(value)}`);
  }
}

/**
 * Throws a RemoteMediaError of kind `invalid_data` naming the field that breaks
 * the RuntimeData contract. Cost is O(1) except for tensor shapes (O(rank)).
 */
export function assertValidRuntimeData(data: RuntimeData): void {
  if (typeof data !== 'object' || data === null) {
    throw invalid('(root)', `expected a RuntimeData object, found ${String(data)}`);
  }
  checkTimestamp(data);
  switch (data.kind) {
    case 'audio':
      if (!(data.samples instanceof Float32Array)) {
        throw invalid('samples', 'must be a Float32Array of interleaved samples');
      }
      checkPositiveInt('sampleRate', data.sampleRate);
      checkPositiveInt('channels', data.channels, 0xffff);
      if (data.samples.length % data.channels !== 0) {
        throw invalid(
          'samples.length',
          `${data.samples.length} samples do not divide into ${data.channels} channels`,
        );
      }
      return;
    case 'text':
      if (typeof data.text !== 'string') throw invalid('text', 'must be a string');
      return;
    case 'json':
      if (data.value === undefined) throw invalid('value', 'must be a JSON value (use null)');
      return;
    case 'binary':
      if (!(data.bytes instanceof Uint8Array)) throw invalid('bytes', 'must be a Uint8Array');
      return;
    case 'tensor': {
      const ArrayType = TENSOR_ARRAY_TYPES[data.dtype];
      if (!ArrayType) {
        throw invalid('dtype', `must be one of ${Object.keys(TENSOR_ARRAY_TYPES).join(', ')}`);
      }
      if (!(data.data instanceof ArrayType)) {
        throw invalid('data', `must be a ${ArrayType.name} for dtype ${data.dtype}`);
      }
      let count = 1;
      data.shape.forEach((dim, i) => {
        if (!Number.isInteger(dim) || dim < 0) {
          throw invalid(`shape[${i}]`, `must be a non-negative integer, found ${dim}`);
        }
        count *= dim;
      });
      if (data.shape.length > 255) throw invalid('shape', 'rank must be at most 255');
      if (count !== data.data.length) {
        throw invalid(
          'data.length',
          `shape [${data.shape.join(', ')}] needs ${count} elements, found ${data.data.length}`,
        );
      }
      return;
    }
    case 'video': {
      const size = PIXEL_FORMATS[data.format];
      if (!size) throw invalid('format', `must be one of ${Object.keys(PIXEL_FORMATS).join(', ')}`);
      checkPositiveInt('width', data.width);
      checkPositiveInt('height', data.height);
      const expected = size(data.width, data.height);
      if (!(data.data instanceof Uint8Array) || data.data.length !== expected) {
        throw invalid(
          'data.length',
          `${data.format} ${data.width}x${data.height} needs ${expected} bytes, found ${data.data?.length}`,
        );
      }
      return;
    }
    case 'control':
      if (!CONTROL_SIGNALS.includes(data.signal)) {
        throw invalid('signal', `must be one of ${CONTROL_SIGNALS.join(', ')}`);
      }
      return;
    case 'event':
      if (typeof data.name !== 'string' || data.name.length === 0) {
        throw invalid('name', 'must be a non-empty string');
      }
      return;
    default:
      throw invalid(
        'kind',
        `must be one of ${RUNTIME_DATA_KINDS.join(', ')}, found ${String((data as { kind: unknown }).kind)}`,
      );
  }
}

/** Seconds of audio held by an audio frame. */
export function audioDurationSeconds(data: AudioData): number {
  return data.samples.length / data.channels / data.sampleRate;
}

/**
 * Constructors that validate as they build, so a bad frame fails where it is made
 * rather than deep inside a pipeline.
 */
export const RuntimeData = {
  audio(samples: Float32Array, sampleRate: number, channels = 1, timestampUs?: number): AudioData {
    return checked({ kind: 'audio', samples, sampleRate, channels, ...time(timestampUs) });
  },
  text(text: string, timestampUs?: number): TextData {
    return checked({ kind: 'text', text, ...time(timestampUs) });
  },
  json(value: JsonValue, timestampUs?: number): JsonData {
    return checked({ kind: 'json', value, ...time(timestampUs) });
  },
  binary(bytes: Uint8Array, mimeType?: string): BinaryData {
    return checked(
      mimeType === undefined ? { kind: 'binary', bytes } : { kind: 'binary', bytes, mimeType },
    );
  },
  tensor<D extends TensorDType>(dtype: D, shape: number[], data: TensorArrays[D]): TensorData {
    return checked({ kind: 'tensor', dtype, shape, data } as TensorData);
  },
  video(width: number, height: number, format: PixelFormat, data: Uint8Array): VideoData {
    return checked({ kind: 'video', width, height, format, data });
  },
  control(signal: ControlSignal): ControlData {
    return checked({ kind: 'control', signal });
  },
  event(name: string, timestampUs?: number, payload?: JsonValue): EventData {
    const base: EventData = { kind: 'event', name, ...time(timestampUs) };
    return checked(payload === undefined ? base : { ...base, payload });
  },
};

function time(timestampUs: number | undefined): Timed {
  return timestampUs === undefined ? {} : { timestampUs };
}

function checked<T extends RuntimeData>(data: T): T {
  assertValidRuntimeData(data);
  return data;
}

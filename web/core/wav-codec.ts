/**
 * WAV files to and from audio RuntimeData: the one WAV reader and writer of the
 * project (the CLI, tests and benchmarks use it). Pure bytes in and out, no file
 * system, so it runs wherever the core runs.
 *
 * Reads PCM 8/16/24/32-bit integer and 32/64-bit float samples, in plain `fmt `
 * chunks and in WAVE_FORMAT_EXTENSIBLE, at any rate and channel count. Writes
 * 32-bit float or 16-bit PCM. Anything else is an `invalid_data` error that names
 * the file and says what was expected.
 */
import { RemoteMediaError } from './errors.ts';

/** Interleaved float32 samples in [-1, 1] (the shape of AudioData without its kind). */
export interface WavAudio {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

export type WavSampleFormat = 'float32' | 'pcm16';

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;
const EXPECTED =
  'expected a RIFF/WAVE file with PCM 8/16/24/32-bit integer or 32/64-bit float samples';

/**
 * Decodes a WAV file's bytes. `name` (a path, for instance) is put in error messages.
 * Allocates the whole output; the file is read at once.
 */
export function decodeWav(bytes: Uint8Array, name = 'input'): WavAudio {
  const fail: (what: string) => never = (what) => {
    throw new RemoteMediaError(
      'invalid_data',
      `${name} is not a readable WAV file: ${what}; ${EXPECTED}`,
      {
        path: name,
      },
    );
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    fail(`it does not start with "RIFF....WAVE" (found ${describeStart(bytes)})`);
  }
  let fmt:
    | { format: number; channels: number; sampleRate: number; bits: number; align: number }
    | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16) fail(`its "fmt " chunk is ${size} bytes long, not at least 16`);
      if (body + size > bytes.length) fail('its "fmt " chunk is cut short');
      let format = view.getUint16(body, true);
      if (format === EXTENSIBLE) {
        if (size < 40) fail(`its WAVE_FORMAT_EXTENSIBLE "fmt " chunk is ${size} bytes, not 40`);
        format = view.getUint16(body + 24, true); // the sub-format GUID starts with the format tag
      }
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        align: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) return fail('its "data" chunk comes before any "fmt " chunk');
      return decodeData(bytes, body, size, fmt, fail);
    }
    at = body + size + (size % 2);
  }
  return fail(fmt ? 'it has no "data" chunk' : 'it has no "fmt " chunk');
}

function decodeData(
  bytes: Uint8Array,
  body: number,
  declared: number,
  fmt: { format: number; channels: number; sampleRate: number; bits: number; align: number },
  fail: (what: string) => never,
): WavAudio {
  const { format, channels, sampleRate, bits } = fmt;
  if (channels === 0) fail('it declares 0 channels');
  if (sampleRate === 0) fail('it declares a sample rate of 0');
  const width = bits / 8;
  const supported =
    (format === PCM && [8, 16, 24, 32].includes(bits)) ||
    (format === IEEE_FLOAT && [32, 64].includes(bits));
  if (!supported) fail(`its samples are format ${format} with ${bits} bits`);
  if (fmt.align !== width * channels) {
    fail(`its block align is ${fmt.align}, not ${width * channels} (${channels} x ${bits} bits)`);
  }
  // Writers that stream (sox or ffmpeg to a pipe) leave the size 0 or 0xFFFFFFFF.
  const streamed = declared === 0 || declared === 0xffffffff;
  const available = bytes.length - body;
  if (!streamed && declared > available) {
    fail(
      `its "data" chunk declares ${declared} bytes but the file holds ${available} (truncated?)`,
    );
  }
  const length = streamed ? available : declared;
  const count = Math.floor(length / fmt.align) * channels;
  const view = new DataView(bytes.buffer, bytes.byteOffset + body, count * width);
  const samples = new Float32Array(count);
  const read = sampleReader(format, bits, view);
  for (let i = 0; i < count; i++) samples[i] = read(i * width);
  return { samples, sampleRate, channels };
}

function sampleReader(format: number, bits: number, view: DataView): (at: number) => number {
  if (format === IEEE_FLOAT) {
    return bits === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  }
  switch (bits) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      return (at) => (view.getUint16(at, true) | (view.getInt8(at + 2) << 16)) / 8388608;
    default:
      return (at) => view.getInt32(at, true) / 2147483648;
  }
}

function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = bytes.subarray(0, 12);
  const printable = [...head].every((b) => b >= 0x20 && b < 0x7f);
  return printable
    ? JSON.stringify(String.fromCharCode(...head))
    : [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * The header of a WAV file whose data chunk holds `dataBytes` bytes: 44 bytes for
 * PCM; 58 for float, whose `fmt ` chunk has the cbSize field and which needs a
 * `fact` chunk (as the format's specification asks, and as sox checks).
 */
export function wavHeader(
  format: WavSampleFormat,
  sampleRate: number,
  channels: number,
  dataBytes: number,
): Uint8Array {
  const float = format === 'float32';
  const width = float ? 4 : 2;
  const fmtBytes = float ? 18 : 16;
  const factBytes = float ? 12 : 0;
  const header = new Uint8Array(12 + 8 + fmtBytes + factBytes + 8);
  const view = new DataView(header.buffer);
  const put = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) header[at + i] = text.charCodeAt(i);
  };
  put(0, 'RIFF');
  view.setUint32(4, header.length - 8 + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, float ? IEEE_FLOAT : PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * width, true);
  view.setUint16(32, channels * width, true);
  view.setUint16(34, width * 8, true);
  let at = 20 + fmtBytes; // cbSize, when present, stays 0
  if (float) {
    put(at, 'fact');
    view.setUint32(at + 4, 4, true);
    view.setUint32(at + 8, dataBytes / (channels * width), true);
    at += factBytes;
  }
  put(at, 'data');
  view.setUint32(at + 4, dataBytes, true);
  return header;
}

/** Samples as a data chunk's bytes (little-endian); pcm16 clips to [-1, 1]. */
export function encodeWavSamples(samples: Float32Array, format: WavSampleFormat): Uint8Array {
  if (format === 'float32') {
    const out = new Uint8Array(samples.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true);
    return out;
  }
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    // x / 32768 is how 16-bit samples are read: the same scale makes a round trip exact.
    view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768))), true);
  }
  return out;
}

/** A whole WAV file. */
export function encodeWav(audio: WavAudio, format: WavSampleFormat = 'float32'): Uint8Array {
  const data = encodeWavSamples(audio.samples, format);
  const header = wavHeader(format, audio.sampleRate, audio.channels, data.length);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

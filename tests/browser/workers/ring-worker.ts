/**
 * A test worker at one end of a FrameRing: the producer writes seeded pseudo-random
 * frames (random sizes and bytes, in the frame codec), the consumer checks each one
 * byte for byte against the same sequence.
 */
import { decodeFrame, encodeFrame } from '../../../web/core/internal.ts';
import {
  FrameRingReader,
  FrameRingWriter,
  type OverrunPolicy,
  RING_CLOSED,
} from '../../../web/runtime/ring/frame-ring.ts';

export interface RingJob {
  role: 'producer' | 'consumer';
  buffer: SharedArrayBuffer;
  policy?: OverrunPolicy;
  totalBytes?: number;
  frames?: number;
  maxPayload: number;
  seed: number;
  /** Consumer: milliseconds to sleep after each frame (a slow consumer). */
  sleepMs?: number;
}

export function payloadFor(seed: number, index: number, maxPayload: number): Uint8Array {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b1)) | 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const bytes = new Uint8Array(1 + (next() % maxPayload));
  for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
  return bytes;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

self.onmessage = (event: MessageEvent<RingJob>) => {
  const job = event.data;
  const started = performance.now();
  if (job.role === 'producer') {
    const writer = new FrameRingWriter(job.buffer, job.policy ?? 'block');
    let bytes = 0;
    let index = 0;
    const lengths: number[] = [];
    while (
      (job.frames === undefined || index < job.frames) &&
      (job.totalBytes === undefined || bytes < job.totalBytes)
    ) {
      const payload = payloadFor(job.seed, index, job.maxPayload);
      const frame = encodeFrame({ sequence: index, data: { kind: 'binary', bytes: payload } });
      writer.write(frame);
      lengths.push(frame.length);
      bytes += payload.length;
      index++;
    }
    writer.close();
    self.postMessage({ frames: index, bytes, lengths, ms: performance.now() - started });
    return;
  }
  const reader = new FrameRingReader(job.buffer);
  const sequences: number[] = [];
  let bytes = 0;
  let mismatch: string | undefined;
  for (;;) {
    const raw = reader.read(30_000);
    if (raw === RING_CLOSED) break;
    const { sequence, data } = decodeFrame(raw);
    const expected = payloadFor(job.seed, sequence, job.maxPayload);
    if (
      data.kind !== 'binary' ||
      data.bytes.length !== expected.length ||
      data.bytes.some((b, i) => b !== expected[i])
    ) {
      mismatch ??= `frame ${sequence} differs`;
    }
    if (sequences.length > 0 && sequence <= sequences[sequences.length - 1]!)
      mismatch ??= `frame ${sequence} out of order`;
    sequences.push(sequence);
    bytes += data.kind === 'binary' ? data.bytes.length : 0;
    if (job.sleepMs) Atomics.wait(sleeper, 0, 0, job.sleepMs);
  }
  self.postMessage({
    frames: sequences.length,
    bytes,
    sequences: job.frames ? sequences : [],
    mismatch,
    ms: performance.now() - started,
  });
};

/** Both ends of the ring benchmarks, in a real worker; the page says which role. */
import { RingBuffer } from 'ringbuf.js';
import { decodeFrame, encodeFrame, type Frame, RuntimeData } from '../../web/core/internal.ts';
import { AudioRing } from '../../web/runtime/ring/audio-ring.ts';
import {
  FrameRingReader,
  FrameRingWriter,
  RING_CLOSED,
} from '../../web/runtime/ring/frame-ring.ts';

type Job =
  | {
      role: 'ring-ping' | 'ring-pong' | 'codec-ping' | 'codec-pong' | 'frame-ping' | 'frame-pong';
      out: SharedArrayBuffer;
      in: SharedArrayBuffer;
      rounds: number;
      batch: number;
      /** Microseconds a blocking call spins before Atomics.wait (the rings' default if absent). */
      spin?: number;
      /** "async": readAsync/writeAsync (Atomics.waitAsync) instead of blocking calls. */
      wait?: 'sync' | 'async';
      /** Read into a buffer of the worker's own (readInto) instead of a fresh copy (read). */
      into?: boolean;
    }
  | { role: 'pm-ping' | 'pm-pong'; port: MessagePort; rounds: number; batch: number }
  | {
      role: 'ours-produce' | 'ours-consume' | 'ringbuf-produce' | 'ringbuf-consume';
      buffer: SharedArrayBuffer;
      blocks: number;
    };

const BLOCK = 128;
const FRAME_BYTES = 512;
/** A codec frame of about FRAME_BYTES: 120 mono samples (480 bytes) and the 36-byte head and tail. */
const audioFrame = (): Frame => ({
  sequence: 0,
  data: RuntimeData.audio(new Float32Array(120).fill(0.25), 48_000, 1, 0),
});

/**
 * What a throughput side does when the ring is full (empty): look 1,024 more times,
 * then give the core away for a moment. With more runnable threads than cores
 * (a shared 2-core machine), pure spinning measured the scheduler: a spinning
 * side holds the core the other side needs to make room.
 */
const nap = new Int32Array(new SharedArrayBuffer(4));
let misses = 0;
function idle(): void {
  if (++misses < 1024) return;
  misses = 0;
  Atomics.wait(nap, 0, 0, 0.02);
}

self.onmessage = async (event: MessageEvent<Job>) => {
  const job = event.data;
  switch (job.role) {
    case 'ring-ping': {
      const writer = new FrameRingWriter(job.out, 'block', job.spin);
      const reader = new FrameRingReader(job.in, job.spin);
      const frame = new Uint8Array(FRAME_BYTES);
      const hops: number[] = [];
      const async = job.wait === 'async';
      const into = new Uint8Array(FRAME_BYTES);
      for (let r = 0; r < job.rounds; r++) {
        const started = performance.now();
        for (let i = 0; i < job.batch; i++) {
          if (async) {
            await writer.writeAsync(frame);
            await reader.readAsync();
          } else if (job.into) {
            writer.write(frame);
            reader.readInto(into);
          } else {
            writer.write(frame);
            reader.read();
          }
        }
        hops.push(((performance.now() - started) * 1000) / job.batch / 2);
      }
      writer.close();
      self.postMessage({ hops });
      return;
    }
    case 'ring-pong': {
      const reader = new FrameRingReader(job.in, job.spin);
      const writer = new FrameRingWriter(job.out, 'block', job.spin);
      const async = job.wait === 'async';
      const into = new Uint8Array(FRAME_BYTES);
      for (;;) {
        if (job.into) {
          const length = reader.readInto(into);
          if (length === RING_CLOSED) break;
          writer.write(into.subarray(0, length));
          continue;
        }
        const frame = async ? await reader.readAsync() : reader.read();
        if (frame === RING_CLOSED) break;
        if (async) await writer.writeAsync(frame);
        else writer.write(frame);
      }
      self.postMessage({});
      return;
    }
    case 'codec-ping':
    case 'frame-ping': {
      // The channel's old path (encodeFrame allocates, copy in, copy out, decodeFrame
      // copies) against the new one (encoded straight in, decoded straight out).
      const writer = new FrameRingWriter(job.out);
      const reader = new FrameRingReader(job.in);
      const frame = audioFrame();
      const staged = job.role === 'codec-ping';
      const hops: number[] = [];
      for (let r = 0; r < job.rounds; r++) {
        const started = performance.now();
        for (let i = 0; i < job.batch; i++) {
          if (staged) {
            writer.write(encodeFrame(frame));
            const bytes = reader.read();
            if (bytes !== RING_CLOSED) decodeFrame(bytes);
          } else {
            writer.writeFrame(frame);
            reader.readFrame();
          }
        }
        hops.push(((performance.now() - started) * 1000) / job.batch / 2);
      }
      writer.close();
      self.postMessage({ hops });
      return;
    }
    case 'codec-pong':
    case 'frame-pong': {
      const reader = new FrameRingReader(job.in);
      const writer = new FrameRingWriter(job.out);
      for (;;) {
        if (job.role === 'codec-pong') {
          const bytes = reader.read();
          if (bytes === RING_CLOSED) break;
          writer.write(encodeFrame(decodeFrame(bytes)));
        } else {
          const frame = reader.readFrame();
          if (frame === RING_CLOSED) break;
          writer.writeFrame(frame);
        }
      }
      self.postMessage({});
      return;
    }
    case 'pm-ping': {
      const frame = new Uint8Array(FRAME_BYTES);
      const hops: number[] = [];
      const reply = () => new Promise<void>((resolve) => (job.port.onmessage = () => resolve()));
      for (let r = 0; r < job.rounds; r++) {
        const started = performance.now();
        for (let i = 0; i < job.batch; i++) {
          const answered = reply();
          job.port.postMessage(frame);
          await answered;
        }
        hops.push(((performance.now() - started) * 1000) / job.batch / 2);
      }
      job.port.postMessage('done');
      self.postMessage({ hops });
      return;
    }
    case 'pm-pong': {
      job.port.onmessage = (message) => {
        if (message.data === 'done') self.postMessage({});
        else job.port.postMessage(message.data);
      };
      return;
    }
    // Same loops for both rings: the producer writes a whole block when there is
    // room for it (each library's own way of asking), the consumer reads whatever
    // is there into its block until every sample has come; a side that finds the
    // ring full (empty) idles the same way for both (idle()).
    case 'ours-produce': {
      const ring = new AudioRing(job.buffer);
      const block = new Float32Array(BLOCK).fill(0.5);
      for (let b = 0; b < job.blocks;) {
        if (ring.tryWrite(block)) b++;
        else idle();
      }
      self.postMessage({});
      return;
    }
    case 'ours-consume': {
      const ring = new AudioRing(job.buffer);
      const block = new Float32Array(BLOCK);
      const total = job.blocks * BLOCK;
      const started = performance.now();
      for (let got = 0; got < total;) {
        const n = ring.read(block);
        if (n === 0) idle();
        got += n;
      }
      self.postMessage({ ms: performance.now() - started });
      return;
    }
    case 'ringbuf-produce': {
      const ring = new RingBuffer(job.buffer, Float32Array);
      const block = new Float32Array(BLOCK).fill(0.5);
      for (let b = 0; b < job.blocks;) {
        if (ring.availableWrite() >= BLOCK && ring.push(block) === BLOCK) b++;
        else idle();
      }
      self.postMessage({});
      return;
    }
    case 'ringbuf-consume': {
      const ring = new RingBuffer(job.buffer, Float32Array);
      const block = new Float32Array(BLOCK);
      const total = job.blocks * BLOCK;
      const started = performance.now();
      for (let got = 0; got < total;) {
        const n = ring.pop(block);
        if (n === 0) idle();
        got += n;
      }
      self.postMessage({ ms: performance.now() - started });
      return;
    }
  }
};

/**
 * A test worker at one end of an AudioRing (ring-wrap.browser.test.ts): the
 * producer writes the test signal 128 samples at a time, waiting for room rather
 * than dropping, then closes; the consumer reads 960 at a time and counts samples
 * that differ from the signal. Both run on their own thread, as the worklet and the
 * pipeline worker do.
 */
import { AudioRing } from './audio-ring.ts';

export interface AudioRingJob {
  role: 'producer' | 'consumer';
  buffer: SharedArrayBuffer;
  samples: number;
}

/** Sample n of the test signal (as in ring-wrap.test.ts): 24-bit, exact in float32. */
export function sampleAt(n: number): number {
  return Math.imul(n, 0x9e3779b1) >>> 8;
}

self.onmessage = (event: MessageEvent<AudioRingJob>) => {
  const { role, buffer, samples } = event.data;
  const ring = new AudioRing(buffer);
  if (role === 'producer') {
    const block = new Float32Array(128);
    for (let n = 0; n < samples; n += 128) {
      for (let i = 0; i < 128; i++) block[i] = sampleAt(n + i);
      while (ring.capacity - ring.available() < 128) {
        /* the consumer is a thread away: spin */
      }
      ring.write(block);
    }
    ring.close();
    self.postMessage({ written: ring.written, dropped: ring.droppedSamples });
    return;
  }
  const block = new Float32Array(960);
  let n = 0;
  let wrong = 0;
  for (;;) {
    ring.waitFor(960, 30_000);
    const got = ring.read(block);
    for (let i = 0; i < got; i++) if (block[i] !== sampleAt(n + i)) wrong++;
    n += got;
    if (got === 0 && ring.closed && ring.available() === 0) break;
  }
  self.postMessage({ read: n, wrong });
};

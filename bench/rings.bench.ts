/**
 * Ring benchmarks in Debian's Chromium (cross-origin isolated, served by Vite with
 * our config): hop latency of one 512-byte frame between two workers, FrameRing vs
 * postMessage; and throughput of 128-sample float32 blocks, AudioRing vs ringbuf.js.
 */
import { createServer } from 'vite';
import { launchChromium } from '../tests/chromium.ts';
import type { BenchSection } from './report.ts';

interface Results {
  crossOriginIsolated: boolean;
  hop: { ring: number[]; codec: number[]; frames: number[]; postMessage: number[] };
  throughput: { bytes: number; oursMs: number[]; ringbufMs: number[] };
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length * 0.5)]!,
    p99: sorted[Math.floor(sorted.length * 0.99)]!,
  };
}

export async function benchRings(): Promise<BenchSection> {
  const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
  await server.listen();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.resolvedUrls!.local[0]}bench/browser/rings.html`);
    await page.waitForFunction(() => 'runRingBench' in window);
    const results = (await page.evaluate(() =>
      (window as unknown as { runRingBench: () => Promise<unknown> }).runRingBench(),
    )) as Results;
    if (!results.crossOriginIsolated)
      throw new Error('the benchmark page is not cross-origin isolated');
    const ring = percentiles(results.hop.ring);
    const pm = percentiles(results.hop.postMessage);
    const codec = percentiles(results.hop.codec);
    const frames = percentiles(results.hop.frames);
    const { bytes } = results.throughput;
    const ours = percentiles(results.throughput.oursMs);
    const theirs = percentiles(results.throughput.ringbufMs);
    const runs = results.throughput.oursMs.length;
    const gbps = (ms: number) => bytes / 1e9 / (ms / 1000);
    const us = (v: number) => v / 1000; // report() takes milliseconds
    return {
      title: 'Rings between workers (Chromium)',
      tables: [
        {
          unit: 'per hop of one 512-byte frame between two workers (ping-pong, batches of 50 round trips)',
          rows: [
            {
              name: 'postMessage over a MessageChannel (baseline)',
              p50: us(pm.p50),
              p99: us(pm.p99),
              samples: results.hop.postMessage.length,
              ratio: 1,
            },
            {
              name: 'FrameRing (Atomics.wait on both sides)',
              p50: us(ring.p50),
              p99: us(ring.p99),
              samples: results.hop.ring.length,
              ratio: ring.p50 / pm.p50,
            },
            {
              name: 'FrameRing, a codec audio frame staged: encodeFrame, copy in, copy out, decodeFrame',
              p50: us(codec.p50),
              p99: us(codec.p99),
              samples: results.hop.codec.length,
              ratio: codec.p50 / pm.p50,
            },
            {
              name: 'FrameRing, the same frame encoded straight in, decoded straight out (writeFrame/readFrame)',
              p50: us(frames.p50),
              p99: us(frames.p99),
              samples: results.hop.frames.length,
              ratio: frames.p50 / pm.p50,
            },
          ],
          note:
            `Ring hop latency is ${(pm.p50 / ring.p50).toFixed(1)}x lower than postMessage at p50 (goal: at least 10x); ` +
            `a codec frame straight in and out ${(codec.p50 / frames.p50).toFixed(2)}x quicker than staged. ` +
            'The codec frame is 120 float32 samples (480 bytes) plus 36 bytes of header, CRC and record length.',
        },
        {
          unit: `for ${(bytes / 2 ** 20).toFixed(0)} MiB of 128-sample float32 blocks between two workers (${runs} alternating runs each; p50 is the median, p99 the worst)`,
          rows: [
            {
              name: `ringbuf.js RingBuffer (baseline): ${gbps(theirs.p50).toFixed(2)} GB/s`,
              p50: theirs.p50,
              p99: theirs.p99,
              samples: runs,
              ratio: 1,
            },
            {
              name: `AudioRing: ${gbps(ours.p50).toFixed(2)} GB/s`,
              p50: ours.p50,
              p99: ours.p99,
              samples: runs,
              ratio: ours.p50 / theirs.p50,
            },
          ],
          note: 'Goal: at least 1.2x the throughput of ringbuf.js, and at least 1 GB/s.',
        },
      ],
      extra:
        'This section alone: `npx tsx bench/run.ts rings`. Both throughput rings hold 16,384 samples; ' +
        'the workers spin while the ring is full or empty, so a busy machine (other processes on the 2 cores) ' +
        'slows both sides alike and the ratio is the figure to compare.',
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

/**
 * createRuntime in Chromium: 20 ms audio blocks page -> worker (Gain) -> page,
 * ring channels against postMessage channels (the baseline), same run.
 */
import { createServer } from 'vite';
import { launchChromium } from '../tests/chromium.ts';
import type { BenchRow, BenchSection } from './report.ts';

interface Results {
  crossOriginIsolated: boolean;
  audioSeconds: number;
  results: Record<'messages' | 'rings', { runMs: number[]; roundTripMs: number[] }>;
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length * 0.5)]!,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
  };
}

export async function benchRuntime(): Promise<BenchSection> {
  const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
  await server.listen();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.resolvedUrls!.local[0]}bench/browser/runtime.html`);
    await page.waitForFunction(() => 'runRuntimeBench' in window);
    const { crossOriginIsolated, audioSeconds, results } = (await page.evaluate(() =>
      (window as unknown as { runRuntimeBench: () => Promise<unknown> }).runRuntimeBench(),
    )) as Results;
    if (!crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated');
    const label = { messages: 'postMessage channels (baseline)', rings: 'ring channels' };
    const table = (
      pick: (r: Results['results']['rings']) => number[],
      name: (ms: number) => string,
    ) => {
      const base = percentiles(pick(results.messages)).p50;
      return (['messages', 'rings'] as const).map((mode): BenchRow => {
        const values = pick(results[mode]);
        const { p50, p99 } = percentiles(values);
        return {
          name: `${label[mode]}${name(p50)}`,
          p50,
          p99,
          samples: values.length,
          ratio: p50 / base,
        };
      });
    };
    const runs = table(
      (r) => r.runMs,
      (ms) => `: ${(audioSeconds / (ms / 1000)).toFixed(0)}x real time`,
    );
    const trips = table(
      (r) => r.roundTripMs,
      () => '',
    );
    return {
      title: 'createRuntime: page -> worker -> page (Chromium)',
      tables: [
        {
          unit: `per run of ${audioSeconds} s of 48 kHz audio in 20 ms blocks through Gain in the worker`,
          rows: runs,
        },
        {
          unit: 'per round trip of one 20 ms block (sendInput, then recvOutput)',
          rows: trips,
          note: `Ring round trip ${(trips[0]!.p50 / trips[1]!.p50).toFixed(1)}x lower than postMessage at p50.`,
        },
      ],
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

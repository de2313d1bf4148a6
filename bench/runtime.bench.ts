/**
 * createRuntime in Chromium: 20 ms audio blocks page -> worker (Gain) -> page,
 * ring channels against postMessage channels (the baseline), same run; beside
 * them the two parts of a round trip measured alone (bench/browser/runtime.ts):
 * the channel floor and the session machinery on one thread.
 */
import { cpus, loadavg } from 'node:os';
import { createServer } from 'vite';
import { launchChromium } from '../tests/chromium.ts';
import type { BenchRow, BenchSection } from './report.ts';

interface Timings {
  runMs: number[];
  roundTripMs: number[];
}

interface Results {
  crossOriginIsolated: boolean;
  audioSeconds: number;
  results: Record<'messages' | 'rings' | 'inProcess', Timings>;
  ringEcho: number[];
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length * 0.5)]!,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
  };
}

function rowsOf(cases: [name: string, values: number[]][]): BenchRow[] {
  const base = percentiles(cases[0]![1]).p50;
  return cases.map(([name, values]) => {
    const { p50, p99 } = percentiles(values);
    return { name, p50, p99, samples: values.length, ratio: p50 / base };
  });
}

const µs = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

/** The page, once Vite has settled: a first visit may reload it when Vite optimizes a dependency. */
async function openBenchPage(browser: Awaited<ReturnType<typeof launchChromium>>, url: string) {
  const page = await browser.newPage();
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      await page.waitForFunction(() => 'runRuntimeBench' in window);
      return (await page.evaluate(() =>
        (window as unknown as { runRuntimeBench: () => Promise<unknown> }).runRuntimeBench(),
      )) as Results;
    } catch (error) {
      if (attempt === 3 || !String(error).includes('context was destroyed')) throw error;
    }
  }
}

export async function benchRuntime(): Promise<BenchSection> {
  const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
  await server.listen();
  const browser = await launchChromium();
  const load = loadavg()[0]!;
  try {
    const { crossOriginIsolated, audioSeconds, results, ringEcho } = await openBenchPage(
      browser,
      `${server.resolvedUrls!.local[0]}bench/browser/runtime.html`,
    );
    if (!crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated');
    const realTime = (runMs: number[]) => audioSeconds / (percentiles(runMs).p50 / 1000);
    const x = (v: number) => `${v.toFixed(0)}x real time`;
    const runs = rowsOf([
      [
        `postMessage channels (baseline): ${x(realTime(results.messages.runMs))}`,
        results.messages.runMs,
      ],
      [`ring channels: ${x(realTime(results.rings.runMs))}`, results.rings.runMs],
      [
        `no worker (the session on the page): ${x(realTime(results.inProcess.runMs))}`,
        results.inProcess.runMs,
      ],
    ]);
    const trips = rowsOf([
      ['postMessage channels (baseline)', results.messages.roundTripMs],
      ['ring channels', results.rings.roundTripMs],
      ['parts: ring echo, no session (channel floor)', ringEcho],
      ['parts: no worker (the session on the page)', results.inProcess.roundTripMs],
    ]);
    const messagesTrip = percentiles(results.messages.roundTripMs).p50;
    const ringsTrip = percentiles(results.rings.roundTripMs).p50;
    const floor = percentiles(ringEcho).p50;
    const tripRatio = messagesTrip / ringsTrip;
    const ringsRealTime = realTime(results.rings.runMs);
    const verdict = (met: boolean) => (met ? 'met' : 'missed');
    return {
      title: 'createRuntime: page -> worker -> page (Chromium)',
      tables: [
        {
          unit: `per run of ${audioSeconds} s of 48 kHz audio in 20 ms blocks through Gain in the worker`,
          rows: runs,
          note: `Goal 1,000x real time with rings: ${verdict(ringsRealTime >= 1000)} (${ringsRealTime.toFixed(0)}x).`,
        },
        {
          unit: `per round trip of one 20 ms block (sendInput, then recvOutput; after 200 round trips of warm-up)`,
          rows: trips,
          note: `Ring round trip ${tripRatio.toFixed(1)}x lower than postMessage at p50 (goal 3x: ${verdict(tripRatio >= 3)}). Of the ring round trip's ${µs(ringsTrip)}, the channel floor (two cross-thread wake-ups, two frames encoded and decoded) is ${µs(floor)}; the rest, ${µs(ringsTrip - floor)}, is the two sessions, their pumps and Gain.`,
        },
      ],
      extra: `Load average when the run started: ${load.toFixed(1)} on ${cpus().length} cores (\`uptime\`); the machine is shared, so compare rows within one run. Reproduce this section alone: \`npx tsx bench/run.ts runtime\`.`,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

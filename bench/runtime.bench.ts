/**
 * createRuntime in Chromium: 20 ms audio blocks page -> worker (Gain) -> page,
 * ring channels against postMessage channels (the baseline), same run; beside
 * them the two parts of a round trip measured alone (bench/browser/runtime.ts):
 * the channel floor and the session machinery on one thread.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createServer } from 'vite';
import { launchChromium } from '../tests/chromium.ts';
import type { BenchRow, BenchSection } from './report.ts';

interface Timings {
  runMs: number[];
  runCpuMs: number[];
  roundTripMs: number[];
}

interface Results {
  crossOriginIsolated: boolean;
  audioSeconds: number;
  results: Record<'messages' | 'rings' | 'inProcess' | 'ringEcho', Timings>;
  /** Renderer CPU ms per second with a session open and idle (page: no session). */
  idle: { page: number; messages: number; rings: number };
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

/** Adds each thread of process `pid` and the seconds it has run (/proc schedstat, ns); false off Linux. */
function threadRunSeconds(pid: number, into: Record<string, number>): boolean {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      into[`${pid}/${tid}`] = ns / 1e9;
    }
    return true;
  } catch {
    return false;
  }
}

/** The page, once Vite has settled: a first visit may reload it when Vite optimizes a dependency. */
async function openBenchPage(browser: Awaited<ReturnType<typeof launchChromium>>, url: string) {
  const page = await browser.newPage();
  // The machine is shared: wall time per run grows with other processes' load, the
  // renderer's CPU time (its page thread and workers) much less. Chromium reports it.
  const cdp = await browser.newBrowserCDPSession();
  await page.exposeFunction('rendererCpuSeconds', async () => {
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
      processInfo: { type: string; cpuTime: number }[];
    };
    return processInfo.filter((p) => p.type === 'renderer').reduce((sum, p) => sum + p.cpuTime, 0);
  });
  // Run time per thread where Linux tells (cpuTime steps by 10 ms, too coarse for
  // an idle channel): "pid/tid" -> seconds, for every thread of the renderers.
  await page.exposeFunction('rendererThreadSeconds', async () => {
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
      processInfo: { type: string; id: number }[];
    };
    const threads: Record<string, number> = {};
    for (const { id } of processInfo.filter((p) => p.type === 'renderer')) {
      if (!threadRunSeconds(id, threads)) return undefined;
    }
    return threads;
  });
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

/** The findings of issue 14's profiling (item 4), with this run's figures. */
function whereTheTimeGoes(f: {
  ringsTrip: number;
  floor: number;
  inProcessTrip: number;
  ringsCpu: number;
  echoCpu: number;
  inProcessCpu: number;
}): string {
  return `### Where the round trip's time goes

Throughput of the 60 s run, by thread (issue 14, the per-thread session of 2026-12-02). Measured with \`npx tsx bench/runtime-profile.ts rings 9 [--count] [--profile /tmp/rt]\`: each 60 s run's CPU time per renderer thread (/proc schedstat), with --count how often each thread waits, notifies, posts and reads the clock, with --profile V8's CPU profiles of the page and the worker (CDP). 1,000x real time is 60 ms for the run: every thread under 60 ms on a core of its own.

- Before this session (its starting tree in a git worktree, alternating with the changed tree, 4 rounds of 9 runs each, 2026-12-02 00:24-00:26 UTC, load 2.9-7.2): per run, the worker 35-56 ms (medians of the rounds 54, 56, 50, 35), the page 29-55 ms (44, 55, 49, 29), the GC's busiest thread 10-22 ms. After (the same rounds): the worker 24-40 ms (32, 40, 33, 24), the page 23-33 ms (29, 33, 27, 23), the GC's busiest 10-16 ms; about 0.6x of the CPU on both threads. By the clock the medians went 124/82/74/78 ms before and 91/64/92/78 ms after (load moves them more than the code), the best single runs 55-74 ms before and 47-63 ms after (up to 1,287x). Again with the final tree (00:38-00:39, load 4.5-5.4, 4 rounds of 9 runs): the worker 33-41 ms before (medians 34, 41, 35, 33) and 23-27 ms after (25, 27, 25, 23), the page 27-40 ms (29, 40, 29, 27) and 21-25 ms (25, 24, 23, 21), the GC's busiest thread 12-16 ms and 12-14 ms; by the clock the medians 77/56/92/76 ms before and 77/72/67/63 ms after (952x at the best median), the best runs 45-68 and 41-51 ms (up to 1,452x). The before tree's CPU moves with the load more (its page spun while it drained), the clock with the load more than with either tree: under load a thread that sleeps waits for a core, and the page still sleeps 87 times a run (see the feeding pattern).
- The round trip (the 3x goal) in 10 alternating pairs of probes (bench/browser/runtime.ts's runRuntimeProbe, 2026-12-02 00:30-00:33, load 5.3-7.0): p50 with rings 30-80 µs before (median 55), 35-100 µs after (45); postMessage 70-135 µs before (117), 65-140 µs after (88); so 2.0-2.1x either way at that load, where quieter runs gave 3.0-3.7x (load 0.8-2.6): the ratio is two threads' wake-ups on a shared machine, and nothing here made the ring's slower.
- Removed: a notify per frame. A writer whose reader had announced a sleep notified on every commit until the woken reader ran again (on the page a task later: tens of µs, many frames of a stream): 3,675 notifies in one run, 143 of them waking anyone; and the reader likewise for a writer waiting for room (1,820, 152). Whoever notifies now takes the announcement down as it does (compareExchange): one notify per wake-up (89 notifies, 87 waking, in a run after all the changes here). Test: frame-ring-wait.test.ts (20 frames before the sleeper runs cost one notify; 20 and 13 before).
- Removed: an ArrayBuffer per block for the worker's input. An island's readers decode into slab slices (openReader's \`payloads: 'slab'\`, RING_SLAB_CODEC: the codec's existing \`allocate\` option with buffer-slab.ts's slabBytes, no change to the codec). In Chromium a 3,840-byte ArrayBuffer took 4-7 µs in a loop where a slab slice took 1.5 µs (memory untouched), and the GC's threads freed each one again. What reaches the embedder still owns its buffer: the RuntimeSession's output readers decode as before (attack-slab-outputs.browser.test.ts, 12 cases; channel.test.ts checks both kinds of reader).
- Removed: the page's spin while it drains. recvOutput let the ring reader spin (up to 50 µs) whenever at most one input had been sent since the last output, so run(), draining outputs while its feeding waited for room, spun for many of them (9 ms of the page's CPU a run in a profile). Now only with exactly one input since the last output: a caller awaiting its reply (runtime.browser.test.ts: 6 polls before, 5 now).
- Removed: a promise per input and one of the two clock reads per node call. An island's pump moves what is already in its channel into the node 8 at a time with no await each (ChannelReader.tryRead, PipelineSession.offerInputTo), so the node's calls run back to back, and then the clock read that ends one call starts the next (NodeMetricsSnapshot.processingMs says so: such a call's time also holds the synchronous hand-off of the previous call's output; after any wait a call is timed from its own start). Before it arms a wait for more (in the worker, a task posted to the wake loop) the pump yields once, so that the node takes what was just queued first and a reply does not wait behind the re-arm. The worker read the clock 3,393 times a run for 3,000 blocks, from over 6,000. Tests: pipeline-session.test.ts (a fake clock: one read between back-to-back calls and each call still timed exactly its 10 ms; two reads after waits), island.test.ts (a backlog through real rings: calls back to back, byte-exact).
- Removed: copies byte by byte. Ring frames lay 4 bytes off an 8-byte boundary, so each block's samples were copied into and out of the ring a byte at a time: V8 copies between a SharedArrayBuffer and other memory by words only when both ends are 8-aligned alike (0.9-1 µs against 0.2 µs for 3,840 bytes in Chromium), four such copies a block. The ring's storage now starts 4 bytes past a boundary and records are padded to 8, so frames start 8-aligned (frame-ring-wait.test.ts). Alternating with the tree just before it (4 rounds, load 6.7-8.4), the worker's median CPU a run was 26-38 ms against 33-46 ms, the page's 29-35 against 30-45: within the spread, as its size predicts (about 2 µs a block per thread).
- The feeding pattern of a 60 s run (--count, after): the page writes ahead until the 1 MiB input ring is full (about 270 blocks) and then waits until a quarter of it is free (about 67 blocks); the worker keeps up and sleeps on its doorbell 2-8 times a run (a futex each); the page waits asynchronously 87 times a run, for room and for outputs (about 35 blocks per wake-up, each one notify by the worker and one task on the page). Before, the page waited 85-143 times a run too, but the worker notified 3,161-3,675 times; a wake-up per block is not what a run pays.
- What is left, per block: on the page, the decode of each output into an ArrayBuffer of its own (needed: outputs leave the engine owning their buffers, and run() keeps all 3,000 of them, 11.5 MB, so each is fresh memory: 4-10 µs for 3,840 bytes in Chromium here however it is made, new + set, slice() or the TypedArray constructor) and the encode of each input from the caller's arrays (11.5 MB of them, out of cache); in the worker, the decode into a slab (fresh memory too, a 64 KiB slab per 16 blocks), Gain's copies into and out of WASM memory and its output slice; on both, the GC's threads freeing the outputs dropped after each run and the slabs. Writing 3,840 bytes of fresh memory costs 3.3-5.3 µs on this machine whichever way it is carved (own buffers, 16 KiB to 1 MiB slabs, probed in Chromium). Goal 1,000x by the clock: in this run see the table and the note under it; the CPU each thread needs (24-40 ms) is under the 60 ms on a quiet machine, so the clock's figure is how the two threads overlap and how much of two cores the machine's other work leaves them.

The previous session's change, how a ring round trip waits (the "parts" rows and the CPU table split it in every run):

- The worker's island reader sleeps on the pipeline worker's doorbell while frames stream (web/runtime/channel/wake-loop.ts, ring/doorbell.ts): one Int32 that every ring writer into that worker bumps and notifies while the worker sleeps, so the page's write wakes it with a futex (the rings section's futex floor: 1.5-7 µs) instead of an Atomics.waitAsync task (12-19 µs). The loop blocks in slices of at most 2 ms and then gives the worker's event loop a turn (comlink calls, timers), and after 50 ms with no frame it sleeps with waitAsync on the doorbell instead (idle: see the idle line). Several sessions in one worker share its doorbell and are all served (wake-loop.browser.test.ts).
- The page: recvOutput, for a caller that awaits the reply to its last input, first lets its ring reader spin up to 50 µs for it (RingChannelReader.poll; after a miss the next 1, 2, 4 ... 64 polls skip the spin), so a reply that comes within that costs no wake-up at all; a caller feeding ahead is not polled for (its spin stalled its own feeding: 60 s took 133-355 ms with polls on every recvOutput against 76-95 ms without, load 5-9).
- The ring echo row is the same channel path with no session (bench/browser/runtime-echo.worker.ts, its reader decoding into slab slices as an island's does): ${µs(f.floor)} of the ring round trip's ${µs(f.ringsTrip)} in this run; the same pipeline with no worker takes ${µs(f.inProcessTrip)}.
- Tried and taken out: the worker spinning up to 30 µs for the next frame before its futex sleep (round trip within the run-to-run spread, 50-95 µs either way alternating at load 5-7, and in a stream it spins while the page needs the other core); an async wake-up with nothing delivered counted as a frame (the idle loop then streamed 50 ms after each 1 s safety wake: 2.6 ms of the worker's CPU a second, now 0.5); the previous session's microtask spin on both sides (60-80 µs against 45-50 µs).
- Before/after (\`npx tsx bench/run.ts runtime\`, 2026-12-01): before that session, 20:34 UTC (load 0.2-2.3): round trip 90 µs with rings against 155 µs postMessage (1.7x), echo floor 60 µs, 60 s at 659x real time (ring echo alone 2,129x). After the doorbell and poll: 20:41 (load 4.7): 30 against 130 µs (4.3x), 810x; 21:13 (load 4.0-7.0): 50 against 110 µs (2.2x), 562x; 21:16 (load 7.3): 70 against 105 µs (1.5x), 229x; 21:17 (load 7.6): 30 against 75 µs (2.5x), 694x, echo floor 15-20 µs. In one page at load 6-9, once warm, 60 s ran in 51-60 ms (1,000-1,176x) in probes. The ratio moves with the load as much as with the code: both channel kinds' round trips are one or two wake-ups of threads that share 2 cores with other work.

Earlier sessions' findings, kept for the record:

- In the profiles of the ring path the largest single cost on both threads was CRC-32, four per block (each hop's encode and its check on decode): 126 ms of the page's and 233 ms of the worker's samples in one profiled run before the changes below, about a quarter of each thread's busy time. Next: the codec's copies and decode, the ring's commit and notify, and Gain itself (its copy into WASM memory, the slice out, its finite check). The sessions' own functions (node tasks, inboxes, the output queue, the pumps) were under 5% of either thread's samples.
- Removed: CRC-32 is slice-by-16 now (web/core/crc32.ts): 3.6-7.6 µs of CPU for a 3,864-byte frame against 9.5-13 µs for the slice-by-4 loop before (Node, process CPU time, load 15).
- Removed: ring frames carry no CRC (\`RING_FRAME_CODEC\` in web/runtime/ring/frame-ring.ts, the codec's \`{ checksum: false }\`: CRC field 0, not read by the ring's reader; the gateway wire and the pipes to CPython check every CRC as before). Shared memory between threads of one process is not a wire, and the four CRCs per block are gone. Measured before/after in alternating runs (3 each, the tree just before the change in a git worktree, 2026-12-01 15:52-15:55 UTC, load 7.3-13.7 on 2 cores), renderer CPU time per 60 s: ring channels 160/190/240 ms before, 120/170/100 ms after (median 190 -> 120 ms, 0.63x); ring echo (channel floor) 130/120/170 ms before, 70/80/60 ms after (median 130 -> 70 ms, 0.54x). Round trip p50 with rings 60/65/90 µs before, 40/80/40 µs after; postMessage in the same runs 115/140/80 µs before, 75/140/70 µs after; postMessage over rings 0.9-2.2x before, 1.75-1.9x after (goal 3x: still missed; the clock steps by 5 µs). By the clock 60 s ran at 197-329x real time before and 244-645x after (goal 1,000x: still missed).
- Before (the previous session's start, 2026-12-01 14:42 UTC, load 3.1): ring round trip 85 µs against postMessage 180 µs at p50 (2.1x); 60 s in 668 ms with rings (90x real time) against 901 ms (67x).
- Goals (round trip at least 3x quicker with rings than postMessage at p50; 60 s at 1,000x real time or more): see the notes under the tables and the before/after runs below. What bounds them here: 1,000x real time is 60 ms for the 3,000 blocks, 20 µs a block, and the two threads' CPU for the ring run is ${f.ringsCpu.toFixed(0)} ms in this run (the channel floor alone ${f.echoCpu.toFixed(0)} ms, the sessions with no worker ${f.inProcessCpu.toFixed(0)} ms): only with both threads on cores of their own and the work split evenly could the clock show 1,000x. Per block the floor is two frame encodes (a 3,840-byte copy into shared memory each) and two decodes, each of which allocates the block's ArrayBuffer (1.5 µs for 3,840 bytes in Node, 4-5 µs for 512 bytes on Chromium's page under load), and Gain allocates its output; performance.now() costs 0.5-1 µs in Chromium, and PipelineSession timed every node call with two of them (since changed: see the top of this section).`;
}

/** What an open session costs while nothing flows, beside the page alone. */
function idleNote(idle: Results['idle']): string {
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const over = (v: number) => `${((v - idle.page) / 10).toFixed(2)}% of a core over the page alone`;
  return (
    `Idle CPU (run time per second of every thread of the renderer, page and workers, from /proc schedstat, over 5 s with a session open, 1 s after its last input of 200): ` +
    `the page alone ${ms(idle.page)}; a postMessage session ${ms(idle.messages)} (${over(idle.messages)}); ` +
    `a ring session ${ms(idle.rings)} (${over(idle.rings)}). An idle ring session does not spin: the ` +
    `worker's wake loop sleeps in Atomics.waitAsync on its doorbell once no frame came for 50 ms, the page's reader on its ring's wake word, until a frame, close or cancel (a safety wake-up once a second).`
  );
}

export async function benchRuntime(): Promise<BenchSection> {
  const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
  await server.listen();
  const browser = await launchChromium();
  const load = loadavg()[0]!;
  try {
    const { crossOriginIsolated, audioSeconds, results, idle } = await openBenchPage(
      browser,
      `${server.resolvedUrls!.local[0]}bench/browser/runtime.html`,
    );
    if (!crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated');
    const realTime = (runMs: number[]) => audioSeconds / (percentiles(runMs).p50 / 1000);
    const x = (v: number) => `${v.toFixed(0)}x real time`;
    const cpuRuns = rowsOf([
      [
        `postMessage channels (baseline): ${x(realTime(results.messages.runCpuMs))}`,
        results.messages.runCpuMs,
      ],
      [`ring channels: ${x(realTime(results.rings.runCpuMs))}`, results.rings.runCpuMs],
      [
        `no worker (the session on the page): ${x(realTime(results.inProcess.runCpuMs))}`,
        results.inProcess.runCpuMs,
      ],
      [
        `ring echo, no session (channel floor): ${x(realTime(results.ringEcho.runCpuMs))}`,
        results.ringEcho.runCpuMs,
      ],
    ]);
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
      [
        `ring echo, no session (channel floor): ${x(realTime(results.ringEcho.runMs))}`,
        results.ringEcho.runMs,
      ],
    ]);
    const trips = rowsOf([
      ['postMessage channels (baseline)', results.messages.roundTripMs],
      ['ring channels', results.rings.roundTripMs],
      ['parts: ring echo, no session (channel floor)', results.ringEcho.roundTripMs],
      ['parts: no worker (the session on the page)', results.inProcess.roundTripMs],
    ]);
    const messagesTrip = percentiles(results.messages.roundTripMs).p50;
    const ringsTrip = percentiles(results.rings.roundTripMs).p50;
    const floor = percentiles(results.ringEcho.roundTripMs).p50;
    const tripRatio = messagesTrip / ringsTrip;
    const ringsRealTime = realTime(results.rings.runMs);
    const verdict = (met: boolean) => (met ? 'met' : 'missed');
    return {
      title: 'createRuntime: page -> worker -> page (Chromium)',
      tables: [
        {
          unit: `per run of ${audioSeconds} s of 48 kHz audio in 20 ms blocks through Gain in the worker`,
          rows: runs,
          note: `Goal 1,000x real time with rings: ${verdict(ringsRealTime >= 1000)} (${ringsRealTime.toFixed(0)}x by the clock).`,
        },
        {
          unit: `of the renderer's CPU time (page thread and workers together) per run of ${audioSeconds} s, as above`,
          rows: cpuRuns,
          note: `By CPU time, ring channels run at ${realTime(results.rings.runCpuMs).toFixed(0)}x real time: on an idle machine the clock would show at least that (the two threads overlap).`,
        },
        {
          unit: `per round trip of one 20 ms block (sendInput, then recvOutput; after 200 round trips of warm-up)`,
          rows: trips,
          note: `Ring round trip ${tripRatio.toFixed(1)}x lower than postMessage at p50 (goal 3x: ${verdict(tripRatio >= 3)}). Of the ring round trip's ${µs(ringsTrip)}, the channel floor (the same ring channels and waits with no session: two frames encoded and decoded, a futex wake-up in the worker, the page's poll) is ${µs(floor)}; ${ringsTrip > floor ? `the rest, ${µs(ringsTrip - floor)}, is the two sessions, their pumps and Gain` : 'it is not below the round trip in this run (separate runs, a clock that steps by 5 µs): the sessions cost less than the spread between runs'}.`,
        },
      ],
      extra: [
        `Load average when the run started: ${load.toFixed(1)} on ${cpus().length} cores (\`uptime\`); the machine is shared, so compare rows within one run, and the CPU-time table more than the clock. Reproduce this section alone: \`npx tsx bench/run.ts runtime\`.`,
        idleNote(idle),
        whereTheTimeGoes({
          ringsTrip,
          floor,
          inProcessTrip: percentiles(results.inProcess.roundTripMs).p50,
          ringsCpu: percentiles(results.rings.runCpuMs).p50,
          echoCpu: percentiles(results.ringEcho.runCpuMs).p50,
          inProcessCpu: percentiles(results.inProcess.runCpuMs).p50,
        }),
      ].join('\n\n'),
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

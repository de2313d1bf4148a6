/**
 * Profiling harness for the runtime benchmark's 60 s run (bench/browser/runtime.ts,
 * runtimeProbeSteps): opens a runtime, warms it up, then runs 60 s of audio N times
 * while it reads the run time of every renderer thread (/proc schedstat, named by
 * /proc comm) and, with --profile, V8's CPU profiler on the page and on every
 * worker (over CDP, a raw connection: Playwright's sessions do not reach workers).
 *
 * `npx tsx bench/runtime-profile.ts [rings|messages] [runs] [--profile /tmp/rt]`
 * writes /tmp/rt-page.cpuprofile and /tmp/rt-worker-N.cpuprofile and prints the
 * top self-time functions of each.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createServer } from 'vite';
import WebSocket from 'ws';
import { launchChromium } from '../tests/chromium.ts';

const channels = (process.argv[2] ?? 'rings') as 'rings' | 'messages';
const runs = Number(process.argv[3] ?? 5);
const profileTo = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined;
/** `--count`: how often each thread waits, wakes the other and posts a task, per run. */
const count = process.argv.includes('--count');
const port = 9400 + Math.floor(Math.random() * 500);

/** pid/tid -> { name, seconds } for every thread of `pids`. */
function threads(pids: number[]): Map<string, { name: string; s: number }> {
  const out = new Map<string, { name: string; s: number }>();
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s =
          Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out.set(`${pid}/${tid}`, { name, s });
      } catch {
        // the thread ended
      }
    }
  }
  return out;
}

/** A raw CDP connection to the browser, with flat sessions for targets. */
async function cdp(url: string) {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let id = 0;
  const waiting = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  const events: ((message: { method: string; params: unknown; sessionId?: string }) => void)[] = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw));
    if (message.id !== undefined) waiting.get(message.id)?.(message);
    else for (const listener of events) listener(message);
  });
  const send = (method: string, params: object = {}, sessionId?: string) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- CDP answers, read by hand
    new Promise<any>((resolve, reject) => {
      const mine = ++id;
      waiting.set(mine, (m) =>
        m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result),
      );
      socket.send(JSON.stringify({ id: mine, method, params, sessionId }));
    });
  return { send, on: (l: (typeof events)[number]) => events.push(l), close: () => socket.close() };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

/** Self time per function of a profile (ms), top `n`. */
function top(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, n = 25) {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const node = byNode.get(nodeId)!;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const f = node.callFrame;
    const key = `${f.functionName || '(anon)'} ${f.url.replace(/.*\/(web|bench|node_modules)\//, '$1/').replace(/\?.*/, '')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = (self.get('(idle) :0') ?? 0) + (self.get('(program) :0') ?? 0);
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `  total ${total.toFixed(1)} ms (idle+program ${idle.toFixed(1)})`,
    ...rows.map(([k, v]) => `  ${v.toFixed(1).padStart(7)} ms  ${k}`),
  ].join('\n');
}

/** Wraps the thread's Atomics waits and notifies and its port posts with counters. */
const COUNTERS = `(() => {
  const c = (globalThis.__counts = { wait: 0, waitTimedOut: 0, waitAsync: 0, waitAsyncSync: 0, notify: 0, notifyWoke: 0, post: 0 });
  const { wait, waitAsync, notify } = Atomics;
  Atomics.wait = function (...a) { c.wait++; const r = wait.apply(Atomics, a); if (r === 'timed-out') c.waitTimedOut++; return r; };
  Atomics.waitAsync = function (...a) { const r = waitAsync.apply(Atomics, a); if (r.async) c.waitAsync++; else c.waitAsyncSync++; return r; };
  Atomics.notify = function (...a) { c.notify++; const n = notify.apply(Atomics, a); c.notifyWoke += n; return n; };
  const now = performance.now.bind(performance);
  c.now = 0;
  performance.now = () => { c.now++; return now(); };
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (...a) { c.post++; return post.apply(this, a); };
})()`;

/** bench/browser/runtime.ts's runtimeProbeSteps. */
interface Probe {
  runtimeProbeSteps: {
    open(channels: string): Promise<void>;
    run(times: number): Promise<number[]>;
    close(): void;
  };
}

const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
await server.listen();
const browser = await launchChromium([
  `--remote-debugging-port=${port}`,
  ...(process.env.RT_JS_FLAGS ? [`--js-flags=${process.env.RT_JS_FLAGS}`] : []),
]);
try {
  const page = await browser.newPage();
  const bcdp = await browser.newBrowserCDPSession();
  const rendererPids = async () => {
    const { processInfo } = (await bcdp.send('SystemInfo.getProcessInfo')) as {
      processInfo: { type: string; id: number }[];
    };
    return processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  };
  await page.goto(`${server.resolvedUrls!.local[0]}bench/browser/runtime.html`);
  await page.waitForFunction(() => 'runtimeProbeSteps' in window);
  await page.evaluate((c) => (window as unknown as Probe).runtimeProbeSteps.open(c), channels);
  const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()) as {
    webSocketDebuggerUrl: string;
  };
  const raw = await cdp(version.webSocketDebuggerUrl);
  const sessions: { name: string; sessionId: string }[] = [];
  if (profileTo || count) {
    const { targetInfos } = await raw.send('Target.getTargets');
    let workers = 0;
    for (const t of targetInfos as { targetId: string; type: string; url: string }[]) {
      if (t.type !== 'page' && t.type !== 'worker') continue;
      if (t.type === 'page' && !t.url.includes('runtime.html')) continue;
      const { sessionId } = await raw.send('Target.attachToTarget', {
        targetId: t.targetId,
        flatten: true,
      });
      const name = t.type === 'page' ? 'page' : `worker-${++workers}`;
      await raw.send('Profiler.enable', {}, sessionId);
      await raw.send('Profiler.setSamplingInterval', { interval: 100 }, sessionId);
      sessions.push({ name, sessionId });
      console.log(`profiling ${name}: ${t.url}`);
    }
    if (profileTo) for (const s of sessions) await raw.send('Profiler.start', {}, s.sessionId);
    if (count) {
      for (const s of sessions) {
        await raw.send('Runtime.evaluate', { expression: COUNTERS }, s.sessionId);
      }
    }
  }
  const pids = await rendererPids();
  const load = loadavg()[0]!;
  // Each run read apart, so that the minimum and the median per thread can be
  // told: on a shared machine a run that other work interrupted costs more CPU
  // too (caches, the other hyperthread), and the minimum is what the code needs.
  const ms: number[] = [];
  const perThread = new Map<string, number[]>();
  const total = threads(pids);
  for (let r = 0; r < runs; r++) {
    const before = threads(pids);
    ms.push(
      ...(await page.evaluate((n) => (window as unknown as Probe).runtimeProbeSteps.run(n), 1)),
    );
    const after = threads(pids);
    for (const [key, { name, s }] of after) {
      const label = `${name} (${key})`;
      const list = perThread.get(label) ?? [];
      list.push((s - (before.get(key)?.s ?? s)) * 1000);
      perThread.set(label, list);
    }
  }
  const after = threads(pids);
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(
    `${channels}, ${runs} runs of 60 s, load ${load.toFixed(1)}: min ${sorted[0]!.toFixed(1)}, median ${sorted[runs >> 1]!.toFixed(1)} ms (${(60000 / sorted[runs >> 1]!).toFixed(0)}x real time at the median, ${(60000 / sorted[0]!).toFixed(0)}x at the min); all: ${ms.map((m) => m.toFixed(0)).join(' ')}`,
  );
  console.log('CPU per run by thread (ms): min / median / mean');
  const rows: [string, number, number, number][] = [];
  for (const [label, list] of perThread) {
    const byValue = [...list].sort((a, b) => a - b);
    const mean = list.reduce((a, b) => a + b, 0) / runs;
    if (mean > 0.5) rows.push([label, byValue[0]!, byValue[runs >> 1]!, mean]);
  }
  rows.sort((a, b) => b[3] - a[3]);
  for (const [label, min, median, mean] of rows) {
    console.log(
      `  ${min.toFixed(1).padStart(6)} ${median.toFixed(1).padStart(6)} ${mean.toFixed(1).padStart(6)}  ${label}`,
    );
  }
  let sum = 0;
  for (const [key, { s }] of after) sum += s - (total.get(key)?.s ?? s);
  console.log(`  renderer total per run: ${((sum * 1000) / runs).toFixed(1)} ms`);
  if (count) {
    for (const s of sessions) {
      const { result } = await raw.send(
        'Runtime.evaluate',
        { expression: 'JSON.stringify(globalThis.__counts)', returnByValue: true },
        s.sessionId,
      );
      const counts = JSON.parse(result.value) as Record<string, number>;
      console.log(
        `${s.name} per run: ${Object.entries(counts)
          .map(([k, v]) => `${k} ${(v / runs).toFixed(0)}`)
          .join(', ')}`,
      );
    }
  }
  for (const s of sessions) {
    if (!profileTo) break;
    const { profile } = await raw.send('Profiler.stop', {}, s.sessionId);
    writeFileSync(`${profileTo}-${s.name}.cpuprofile`, JSON.stringify(profile));
    console.log(`${s.name} (self time over ${runs} runs):\n${top(profile)}`);
  }
  raw.close();
  await page.evaluate(() => (window as unknown as Probe).runtimeProbeSteps.close());
} finally {
  await browser.close();
  await server.close();
}

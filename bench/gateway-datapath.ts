/**
 * The gateway's data path without sockets: GatewaySession sessions (Gain, as in the
 * capacity run) fed the same wire messages the load generator sends, straight into
 * onData, their replies taken by a stand-in socket that only counts them. What it
 * measures is the JS per frame (assembly, CRC, decode, credit, the pipeline, Gain,
 * encode) apart from ws and the kernel, whose noise on a shared machine hides changes
 * of a few µs in the end-to-end run (bench/gateway-profile.ts).
 * `npx tsx bench/gateway-datapath.ts [sessions] [seconds] [--profile file.cpuprofile]
 * [--allocations | --promoted]` (the JS heap's allocation sites over the timed part, by
 * V8's sampling heap profiler, bytes per frame; --promoted counts only objects no
 * scavenge collected: promoted into the old generation, or alive at the end).
 * With GATEWAY_BENCH_TRACE_GC=nvp (run as `node --trace-gc-nvp --import tsx ...`) the
 * timed part is marked on stderr for bench/gateway-gc-summary.ts.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type WebSocket from 'ws';
import {
  encodeFrame,
  GATEWAY_WINDOW,
  packFrame,
  PipelineRunner,
  RuntimeData,
} from '../web/core/internal.ts';
import { GatewaySession } from '../remote-gateway/gateway-session.ts';
import { GatewayMetrics } from '../remote-gateway/metrics.ts';
import { runWithGatewayFlags } from './gateway-relaunch.ts';

// As a gateway runs (remote-gateway/node-flags.ts); GATEWAY_BENCH_NODE_FLAGS=0 without.
runWithGatewayFlags();

const sessions = Number(process.argv[2] ?? 150);
const seconds = Number(process.argv[3] ?? 3);
const profileTo = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined;

/** Stands in for a ws socket: open, never backed up; counts what was sent. */
class CountingSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  binary = 0;
  texts = 0;
  /** Credit granted by the session (parsed from its credit texts). */
  granted = 0;
  send(message: Uint8Array | string): void {
    if (typeof message === 'string') {
      this.texts++;
      if (process.env.DEBUG_DP) console.log(message);
      const parsed = JSON.parse(message) as { type: string; frames?: number };
      if (parsed.type === 'credit') this.granted += parsed.frames!;
    } else {
      this.binary++;
      if (process.env.DEBUG_DP) console.log('bin', message.length);
    }
  }
  terminate(): void {}
  close(): void {}
}

const audio = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1);
/** One wire message per sequence number, made once, as the load generator does. */
const messageOf = (sequence: number) =>
  packFrame(0, encodeFrame({ sequence, data: audio }), 1 << 20)[0]!;

const runner = new PipelineRunner();
const metrics = new GatewayMetrics();
const spec = {
  manifest: {
    version: 'v1' as const,
    metadata: { name: 'gain' },
    nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 } }],
    connections: [],
  },
  inputs: [{ sources: ['gain'] }],
  outputs: [{ sink: 'gain' }],
};
const limits = { maxMessageSize: 1 << 20, maxFrameBytes: 1 << 20, idleTimeoutMs: 60_000 };
const clients = await Promise.all(
  Array.from({ length: sessions }, async () => {
    const socket = new CountingSocket();
    const session = await GatewaySession.open(
      socket as unknown as WebSocket,
      runner,
      spec as never,
      limits,
      metrics,
      { clientMaxMessage: 1 << 20, resumable: false },
    );
    return { socket, session, sent: 0 };
  }),
);

const WARM_UP = 100;
const rounds = seconds * 50;
/** messages[i] is sequence i + 1: each session sends them in order. */
const messages = Array.from({ length: WARM_UP + rounds }, (_, i) => messageOf(i + 1));

/** One 20 ms period: every session sends its next frame (within credit), then the loop turns. */
async function period(): Promise<void> {
  for (const client of clients) {
    if (client.sent - client.socket.granted >= GATEWAY_WINDOW) continue;
    client.session.onData(messages[client.sent]!);
    client.sent++;
  }
  await new Promise((resolve) => setImmediate(resolve));
}

for (let r = 0; r < WARM_UP; r++) await period(); // JIT warm-up, not timed
const profile = profileTo ? new Session() : undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    profile!.post(method, params, (e, result) => (e ? reject(e) : resolve(result))),
  );
const promotedOnly = process.argv.includes('--promoted');
const allocations =
  process.argv.includes('--allocations') || promotedOnly ? new Session() : undefined;
if (allocations) {
  allocations.connect();
  await new Promise((resolve) =>
    allocations.post(
      'HeapProfiler.startSampling',
      {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: !promotedOnly,
      },
      resolve,
    ),
  );
}
if (profile) {
  profile.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
}
const outBefore = clients.reduce((n, c) => n + c.socket.binary, 0);
const mark = (phase: string, frames = '') => {
  if (process.env.GATEWAY_BENCH_TRACE_GC) {
    process.stderr.write(
      `phase ${phase} ${sessions} at ${performance.now().toFixed(0)} ms${frames}\n`,
    );
  }
};
mark('start');
const cpu = process.cpuUsage();
const started = performance.now();
for (let r = 0; r < rounds; r++) await period();
await new Promise((resolve) => setTimeout(resolve, 20));
const used = process.cpuUsage(cpu);
const wall = performance.now() - started;
const out = clients.reduce((n, c) => n + c.socket.binary, 0) - outBefore;
mark('stop', ` frames ${out}`);
if (allocations) {
  interface Sample {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: Sample[];
  }
  const { profile: heap } = await new Promise<{ profile: { head: Sample } }>((resolve) =>
    allocations.post('HeapProfiler.stopSampling', (_, result) => resolve(result as never)),
  );
  const sites = new Map<string, number>();
  const walk = (node: Sample, caller: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const here = `${functionName || '(anonymous)'} ${url.replace(/^.*\//, '')}:${lineNumber + 1}`;
    const key = `${here} <- ${caller}`;
    if (node.selfSize) sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, here);
  };
  walk(heap.head, '');
  const rows = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25);
  for (const [site, bytes] of rows)
    console.log(`${(bytes / out).toFixed(0).padStart(6)} B/frame  ${site}`);
}
if (profile) {
  const { profile: data } = (await post('Profiler.stop')) as { profile: unknown };
  writeFileSync(profileTo!, JSON.stringify(data));
}
console.log(
  `${sessions} sessions, ${out} frames: ${((used.user + used.system) / out).toFixed(2)} µs CPU per frame (user ${(used.user / out).toFixed(2)}, system ${(used.system / out).toFixed(2)}), ${((wall * 1000) / out).toFixed(2)} µs wall per frame`,
);
process.exit(0);

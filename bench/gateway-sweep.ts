/**
 * The gateway benchmark itself (bench/gateway.bench.ts runs it in a process of its
 * own, started with the gateway's Node flags as `npm run gateway` starts a gateway):
 * the round trip of one 20 ms audio frame through a gateway PassThrough session
 * against a bare `ws` echo server measured in the same run; and how many concurrent
 * real-time sessions (a 20 ms frame every 20 ms each, through Gain) the gateway holds
 * without falling behind. Run as a script it writes its section, as JSON, to fd 3.
 */
import { writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import WebSocket, { WebSocketServer } from 'ws';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { startCapacityGateway } from './capacity-gateway.ts';
import { bareEchoServer, cpuPerFrame, PINNED, SECONDS } from './gateway-profile.ts';
import type { BenchRow, BenchSection } from './report.ts';
import { GATEWAY_NODE_FLAGS } from '../remote-gateway/node-flags.ts';

const TOKEN = 'bench-token-0123456789';
const FRAME = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1); // 20 ms
const ROUND_TRIPS = 2000;
/** Session counts of the capacity sweep (GATEWAY_BENCH_COUNTS=200,300 runs only those). */
const COUNTS = (process.env.GATEWAY_BENCH_COUNTS ?? '10,50,100,200,300,400')
  .split(',')
  .map((count) => {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`GATEWAY_BENCH_COUNTS: '${count}' is not a session count (e.g. 200,300)`);
    }
    return n;
  });
const single = (node_type: string, params: Record<string, unknown> = {}): Manifest => ({
  version: 'v1',
  metadata: { name: node_type },
  nodes: [{ id: 'n', node_type, params }],
  connections: [],
});

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function bareEcho(): Promise<number[]> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => ws.once('open', resolve));
  const payload = new Uint8Array(FRAME.samples.buffer.slice(0));
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    ws.send(payload);
    await new Promise((resolve) => ws.once('message', resolve));
    times.push(performance.now() - started);
  }
  ws.close();
  server.close();
  return times;
}

export async function sweepGateway(): Promise<BenchSection> {
  const gateway = await startCapacityGateway(TOKEN);
  const client = new RemoteProxyClient(
    { host: '127.0.0.1', port: gateway.port },
    { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
  try {
    const bare = await bareEcho();
    const session = await client.stream(single('PassThrough'));
    const through: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const started = performance.now();
      await session.sendInput(FRAME);
      await session.recvOutput();
      through.push(performance.now() - started);
    }
    await session.close();
    const b = percentiles(bare);
    const g = percentiles(through);
    const rows: BenchRow[] = [
      {
        name: 'bare ws echo of the same 3840 bytes (baseline)',
        ...b,
        samples: bare.length,
        ratio: 1,
      },
      { name: 'gateway session, PassThrough', ...g, samples: through.length, ratio: g.p50 / b.p50 },
    ];

    // Concurrent real-time sessions: each sends a 20 ms frame every 20 ms for SECONDS
    // (GATEWAY_BENCH_SECONDS, default 3; open loop, within the gateway's credit); a
    // session falls behind when its p99 output comes more than 20 ms after the frame
    // was due. At each count a bare ws echo server (in this process too) takes the
    // same bytes at the same pace first: the machine's load moves both, their ratio
    // is what counts. The load generator (bench/gateway-load.ts, raw sockets, frames
    // built ahead) is its own process, on the other core when taskset can pin it; its
    // own CPU per frame is shown too.
    const loadBefore = loadavg();
    const capacity: string[] = [
      '| sessions | bare echo CPU per frame | gateway CPU per frame | ratio | p99 lag: bare / gateway | frames lost: bare / gateway | generator CPU per frame: bare / gateway | server GCs, scavenges / mark-compacts: bare / gateway | held (p99 lag <= 20 ms) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ];
    let held = 0;
    let cpuPerFrameUs = 0;
    let pinned: keyof typeof PINNED = 'none';
    // One untimed pass at 50 sessions first, on both servers: otherwise the first row
    // pays the JIT and the first WASM compile (10 sessions read 327 µs a frame and
    // fell behind, where 50 read 78 µs).
    {
      const echo = await bareEchoServer();
      await cpuPerFrame(echo.port, 'bare', 50, echo.frames);
      await echo.close();
      await cpuPerFrame(gateway.port, TOKEN, 50, () => gateway.metrics.framesIn);
    }
    for (const count of COUNTS) {
      const echo = await bareEchoServer();
      const baseline = await cpuPerFrame(echo.port, 'bare', count, echo.frames);
      await echo.close();
      // The gateway's own CPU time (user + system) per frame it took in and sent
      // back, over the timed part only: what bounds its capacity once clients run elsewhere.
      const measured = await cpuPerFrame(
        gateway.port,
        TOKEN,
        count,
        () => gateway.metrics.framesIn,
      );
      pinned = measured.pinned;
      if (count === 300 || cpuPerFrameUs === 0) cpuPerFrameUs = measured.us;
      const keeps = measured.p99 <= 20 && measured.lost === 0 && !measured.failure;
      capacity.push(
        `| ${count} | ${baseline.us.toFixed(1)} µs | ${measured.us.toFixed(1)} µs | ${(measured.us / baseline.us).toFixed(2)}x | ${baseline.p99.toFixed(1)} / ${measured.p99.toFixed(1)} ms | ${baseline.lost} / ${measured.lost} | ${baseline.cpuUs.toFixed(1)} / ${measured.cpuUs.toFixed(1)} µs | ${baseline.gc.scavenges} / ${baseline.gc.markCompacts} : ${measured.gc.scavenges} / ${measured.gc.markCompacts} | ${keeps ? 'yes' : `no${measured.failure ? ` (${measured.failure})` : ''}`} |`,
      );
      // Every count is run (not stopped at the first miss): the CPU ratio is wanted at
      // every count, and on a loaded machine a miss may be the machine's, not the gateway's.
      if (keeps) held = Math.max(held, count);
    }
    const loadAfter = loadavg();
    const perCore = Math.floor(1e6 / (cpuPerFrameUs * 50));
    return {
      title: 'Gateway over loopback (Node)',
      tables: [
        {
          unit: 'per round trip of one 20 ms 48 kHz mono frame (sendInput, then recvOutput)',
          rows,
          note: `Gateway p50 ${(g.p50 * 1000).toFixed(0)} µs, p99 ${g.p99.toFixed(2)} ms (goal: p50 <= 1 ms, p99 <= 5 ms).`,
        },
      ],
      extra: `Concurrent real-time sessions (Gain, a 20 ms frame every 20 ms each, ${SECONDS} s, clients in a separate process, ${PINNED[pinned]}; the servers in a process of their own started with ${flagsNote()}; load average ${loadBefore.map((l) => l.toFixed(1)).join(' / ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' / ')} after). CPU per frame is the server process's user + system time over the timed part divided by the frames it took in and answered; GCs are the server process's over the timed part (GATEWAY_BENCH_TRACE_GC=1 prints V8's reasons); ratio is the gateway's against the bare ws echo's at the same count, measured just before it:\n\n${capacity.join('\n')}\n\nHeld without falling behind: ${held} sessions (goal: at least 300; CPU goal: within 3x the bare echo). From the gateway's own CPU time per frame (at 300 sessions), one core would serve about ${perCore} such sessions.\n`,
    };
  } finally {
    await gateway.close();
  }
}

/** The Node flags this process runs with, of those the gateway's launchers pass. */
function flagsNote(): string {
  const given = GATEWAY_NODE_FLAGS.filter((flag) => process.execArgv.includes(flag));
  return given.length > 0
    ? `\`${given.join(' ')}\` as \`npm run gateway\` starts a gateway (remote-gateway/node-flags.ts)`
    : "none of the gateway launchers' Node flags (GATEWAY_BENCH_NODE_FLAGS=0)";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const section = await sweepGateway();
  writeSync(3, JSON.stringify(section));
  process.exit(0);
}

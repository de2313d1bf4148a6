/**
 * Profiling harness for the gateway's data path: runs the capacity load generator (a
 * separate process) once against a bare `ws` echo server and once against a gateway,
 * both in this process, and prints the CPU per frame of each and their ratio.
 * `node --cpu-prof --cpu-prof-dir=/tmp/gwprof --import tsx bench/gateway-profile.ts [sessions] [gateway]`
 * then `npx tsx bench/gateway-profile-summary.ts /tmp/gwprof/<file>` for where the time went.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WebSocketServer } from 'ws';
import { startGateway } from '../remote-gateway/gateway.ts';

const TOKEN = 'bench-token-0123456789';
const count = Number(process.argv[2] ?? 100);
/** `gateway` as the second argument: the gateway alone, for a profile of it only. */
const gatewayOnly = process.argv[3] === 'gateway';

/** CPU (user + system, µs) of this process per frame while `count` sessions run. */
export async function cpuPerFrame(
  port: number,
  token: string,
  sessions: number,
  frames: () => number,
): Promise<{ us: number; p99: number }> {
  const before = frames();
  const cpuBefore = process.cpuUsage();
  const { stdout } = await promisify(execFile)(
    'npx',
    ['tsx', 'bench/gateway-load.ts', String(port), token, String(sessions)],
    { maxBuffer: 64 << 20 },
  );
  const cpu = process.cpuUsage(cpuBefore);
  const lags = (JSON.parse(stdout) as number[]).sort((a, b) => a - b);
  return {
    us: (cpu.user + cpu.system) / (frames() - before),
    p99: lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))]!,
  };
}

/** A bare ws echo server; `frames()` counts the messages it echoed. */
export async function bareEchoServer() {
  let echoed = 0;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) =>
    ws.on('message', (data) => {
      echoed++;
      ws.send(data);
    }),
  );
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as { port: number }).port,
    frames: () => echoed,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bare = await bareEchoServer();
  const b = gatewayOnly
    ? { us: NaN, p99: NaN }
    : await cpuPerFrame(bare.port, 'bare', count, bare.frames);
  await bare.close();
  const gateway = await startGateway({
    port: 0,
    tokens: [TOKEN],
    maxSessionsPerClient: 10_000,
    maxSessionsPerToken: 10_000,
    maxSessions: 10_000,
    maxConnectionsPerAddress: 10_000,
  });
  const g = await cpuPerFrame(gateway.port, TOKEN, count, () => gateway.metrics.framesIn);
  await gateway.close();
  console.log(
    `${count} sessions: bare ws echo ${b.us.toFixed(0)} µs per frame (p99 lag ${b.p99.toFixed(1)} ms); gateway ${g.us.toFixed(0)} µs per frame (p99 lag ${g.p99.toFixed(1)} ms); ratio ${(g.us / b.us).toFixed(1)}x`,
  );
}

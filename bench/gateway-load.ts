/**
 * Load generator for the gateway capacity benchmark, run as its own process (as
 * remote clients would be): `tsx bench/gateway-load.ts <port> <token> <sessions>`.
 * Each session sends a 20 ms frame every 20 ms for 3 s through Gain and records how
 * late each output arrived against the frame's due time; prints the lags as JSON.
 * With the token `bare`, each session is a plain WebSocket sending the same bytes (a
 * 20 ms frame with its port prefix) to a bare echo server, paced the same way: the
 * baseline the gateway's CPU per frame is compared with.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import WebSocket from 'ws';
import { useNativeCrc32 } from '../web/core/crc32.ts';
import { encodeFrame, type Manifest, packFrame, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';

// A Node client checks and seals frames with Node's CRC-32, as the gateway does.
useNativeCrc32(zlibCrc32);
const [port, token, count] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4])];
const frame = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1);
if (token === 'bare') await bare();
const client = new RemoteProxyClient(
  { host: '127.0.0.1', port },
  { token, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
);
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'gain' },
  nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 } }],
  connections: [],
};
const sessions = await Promise.all(Array.from({ length: count }, () => client.stream(manifest)));
// Warm up each session once before the clock starts.
for (const session of sessions) {
  await session.sendInput(frame);
  await session.recvOutput();
}
const lags: number[] = [];
const start = performance.now() + 100;
await Promise.all(
  sessions.map(async (session, s) => {
    const offset = (s / count) * 20; // spread over the 20 ms period, as real clients are
    for (let i = 0; i < 150; i++) {
      const due = start + offset + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await session.sendInput(frame);
      await session.recvOutput();
      lags.push(Math.max(0, performance.now() - due));
    }
    await session.close();
  }),
);
process.stdout.write(JSON.stringify(lags));

/** The same pacing over plain WebSockets to an echo server; prints the lags and exits. */
async function bare(): Promise<never> {
  const bytes = packFrame(0, encodeFrame({ sequence: 1, data: frame }), 1 << 20)[0]!;
  const sockets = await Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      await new Promise((resolve) => ws.once('open', resolve));
      return ws;
    }),
  );
  const echo = (ws: WebSocket) => {
    ws.send(bytes);
    return new Promise((resolve) => ws.once('message', resolve));
  };
  for (const ws of sockets) await echo(ws);
  const lags: number[] = [];
  const start = performance.now() + 100;
  await Promise.all(
    sockets.map(async (ws, s) => {
      const offset = (s / count) * 20;
      for (let i = 0; i < 150; i++) {
        const due = start + offset + i * 20;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await echo(ws);
        lags.push(Math.max(0, performance.now() - due));
      }
      ws.close();
    }),
  );
  // Exits once the lags are written (a pipe takes them asynchronously).
  return new Promise(() => process.stdout.write(JSON.stringify(lags), () => process.exit(0)));
}

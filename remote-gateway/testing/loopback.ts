/**
 * What the gateway's restart and liveness tests set up beside a real gateway on
 * loopback, written once: the gateway itself, the ws package as the client's
 * WebSocket, and the two ways a gateway dies during a connection — one that takes
 * the TCP connection and never says a word (a stopped process: the kernel still
 * accepts), and one that upgrades and dies at the first message (killed mid-open).
 * Each is closed by the test that made it.
 */
import { createServer, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { type Gateway, type GatewayOptions, startGateway } from '../gateway.ts';

/** The ws package's WebSocket, as the TypeScript client takes it (Node 20 has no global one). */
export const nodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket;

/** A gateway on a free loopback port accepting `token`, no containers. */
export function startLoopbackGateway(
  token: string,
  options: Partial<GatewayOptions> = {},
): Promise<Gateway> {
  return startGateway({ port: 0, tokens: [token], containers: false, ...options });
}

/** Polls `check` every 25 ms; throws "never: <what>" if it is still false after `withinMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  withinMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A server that takes TCP connections and never says a word (a stopped process). */
export async function blackHole(): Promise<{
  port: number;
  /** The connections it holds now. */
  held: Set<Socket>;
  close(): Promise<void>;
}> {
  const held = new Set<Socket>();
  const server = createServer((socket) => {
    held.add(socket);
    socket.resume(); // reads (and drops) what comes, so that its end is seen
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    held,
    async close() {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A WebSocket server that upgrades, then dies as the first message (the `open`) arrives. */
export async function dyingGateway(): Promise<{
  port: number;
  /** First messages it was sent, and died at. */
  readonly opens: number;
  close(): Promise<void>;
}> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let opens = 0;
  server.on('connection', (socket) =>
    socket.on('message', () => {
      opens++;
      socket.terminate();
    }),
  );
  return {
    port: (server.address() as { port: number }).port,
    get opens() {
      return opens;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Load generator for the gateway capacity benchmark, run as its own process (as
 * remote clients would be): `tsx bench/gateway-load.ts <port> <token> <sessions> [seconds]`.
 *
 * Each session sends a 20 ms audio frame every 20 ms (open loop: a frame goes when it
 * is due, whether or not the last reply is in, within the gateway's credit) through
 * Gain, and each reply's lag is how late it arrived against its frame's due time.
 * With the token `bare` each session is a plain WebSocket to an echo server taking
 * the same bytes at the same pace: the baseline.
 *
 * It is built to cost little, so that it measures the server and not itself: raw
 * TCP sockets (bench/gateway-wire.ts) with the WebSocket handshake done once; every
 * data message built and masked before the clock starts (one per sequence number,
 * shared by all sessions); one write per frame; replies parsed incrementally into a
 * reused buffer; one timer for all sessions, sending every frame that is due. Its
 * own CPU per frame is measured and reported beside the lags.
 *
 * Stdout, one JSON object per line: {"phase":"start"} when the timed part begins,
 * {"phase":"stop"} when the last reply is in (the parent measures the server's CPU
 * between the two), then {"result": ...}.
 */
import type { Socket } from 'node:net';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { useNativeCrc32 } from '../web/core/crc32.ts';
import {
  encodeFrame,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  packFrame,
  RuntimeData,
} from '../web/core/internal.ts';
import {
  clientFrame,
  connectWire,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  WireReader,
} from './gateway-wire.ts';

useNativeCrc32(zlibCrc32);

export interface LoadResult {
  sessions: number;
  /** Timed replies received (warm-up excluded). */
  frames: number;
  /** Timed frames whose reply never came before the deadline (counted in the lags as late as that). */
  lost: number;
  /** Reply lag against the due time, ms. */
  p50: number;
  p99: number;
  max: number;
  /** How late the generator itself sent frames (its timer), ms. */
  sendP99: number;
  /** The generator's own CPU (user + system) per timed frame, µs. */
  cpuUs: number;
  /** What went wrong, when something did (an error message from the gateway, a close). */
  failure?: string;
}

const PERIOD_MS = 20;
const MASK = Uint8Array.of(0x3a, 0x9c, 0x51, 0xe7);
/** After the last frame is due, how long replies are waited for. */
const DRAIN_MS = 5000;

const [port, token, count] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4])];
const seconds = Number(process.argv[5] ?? 3);
const bare = token === 'bare';
const perSession = Math.round((seconds * 1000) / PERIOD_MS);
/** Sequence 1 is the warm-up; 2..perSession+1 are timed. */
const total = perSession + 1;

const audio = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1);
/** The data message of each sequence number, masked: the same bytes for every session. */
const messages: Buffer[] = [];
for (let sequence = 1; sequence <= total; sequence++) {
  const [message] = packFrame(0, encodeFrame({ sequence, data: audio }), 1 << 20);
  messages.push(clientFrame(OP_BINARY, message!, MASK));
}
const text = (value: unknown) => clientFrame(OP_TEXT, Buffer.from(JSON.stringify(value)), MASK);

interface Client {
  socket: Socket;
  /** Data messages sent (warm-up included) and replies received. */
  sent: number;
  received: number;
  granted: number;
  /** Frames due but held for credit. */
  held: number;
  opened: (() => void) | undefined;
  closed: boolean;
}

const clients: Client[] = [];
const lags = new Float64Array(count * perSession);
const sendLags = new Float64Array(count * perSession);
let timedReplies = 0;
let start = Infinity;
let failure: string | undefined;
let warmed: (() => void) | undefined;
let warmCount = 0;
let allIn: (() => void) | undefined;

const due = (client: number, frame: number) =>
  start + (client / count) * PERIOD_MS + frame * PERIOD_MS;

function connectClient(index: number): Promise<Client> {
  const client: Client = {
    socket: undefined as unknown as Socket,
    sent: 0,
    received: 0,
    granted: 0,
    held: 0,
    opened: undefined,
    closed: false,
  };
  const reader = new WireReader({
    binary(prefix, prefixLength) {
      // port 0, then a frame: "RM" magic at bytes 2-3, its sequence at bytes 10-13.
      const sequence =
        prefixLength >= 14
          ? (prefix[10]! | (prefix[11]! << 8) | (prefix[12]! << 16) | (prefix[13]! << 24)) >>> 0
          : -1;
      const expected = client.received + 1;
      if (prefix[2] !== 0x52 || prefix[3] !== 0x4d || sequence !== expected) {
        failure ??= `session ${index}: reply ${expected} arrived as sequence ${sequence}`;
      }
      client.received = expected;
      if (expected === 1) {
        if (++warmCount === count) warmed?.();
        return;
      }
      const frame = expected - 2;
      lags[index * perSession + frame] = Math.max(0, performance.now() - due(index, frame));
      if (++timedReplies === count * perSession) allIn?.();
    },
    text(message) {
      const parsed = JSON.parse(message) as {
        type: string;
        frames?: number;
        error?: { message: string };
      };
      if (parsed.type === 'opened') client.opened?.();
      else if (parsed.type === 'credit') {
        client.granted += parsed.frames!;
        releaseHeld(client, index);
      } else if (parsed.type === 'error') {
        failure ??= `session ${index}: ${parsed.error?.message}`;
        giveUp(failure);
      }
    },
    control(opcode, payload) {
      if (opcode === OP_PING) client.socket.write(clientFrame(OP_PONG, payload, MASK));
      else if (opcode === OP_CLOSE) {
        if (!client.closed) client.socket.end(clientFrame(OP_CLOSE, payload, MASK));
        client.closed = true;
      } else failure ??= `session ${index}: ${payload.toString()}`;
    },
  });
  return connectWire(port, bare ? '/' : '/v1', reader, () => {
    if (!client.closed && timedReplies < count * perSession) {
      failure ??= `session ${index}: the connection closed`;
      giveUp(failure);
      allIn?.();
    }
    client.closed = true;
  }).then(async (socket) => {
    client.socket = socket;
    if (!bare) {
      const opened = new Promise<void>((resolve) => (client.opened = resolve));
      socket.write(
        text({
          type: 'open',
          version: GATEWAY_PROTOCOL_VERSION,
          token,
          island: {
            manifest: {
              version: 'v1',
              metadata: { name: 'gain' },
              nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 } }],
              connections: [],
            },
            inputs: [{ sources: ['gain'] }],
            outputs: [{ sink: 'gain' }],
          },
          maxMessageSize: 1 << 20,
        }),
      );
      await opened;
    }
    return client;
  });
}

/** Within the gateway's credit (a bare echo grants none and needs none). */
const mayPost = (client: Client) => bare || client.sent - client.granted < GATEWAY_WINDOW;

function post(client: Client): void {
  client.socket.write(messages[client.sent]!);
  client.sent++;
}

function releaseHeld(client: Client, index: number): void {
  while (client.held > 0 && mayPost(client)) {
    client.held--;
    sendLags[index * perSession + client.sent - 1] =
      performance.now() - due(index, client.sent - 1);
    post(client);
  }
}

/** The next frame to send, in due order: frame = next / count, client = next % count. */
let next = 0;
function tick(): void {
  const now = performance.now();
  while (next < count * perSession) {
    const index = next % count;
    const frame = (next - index) / count;
    const at = due(index, frame);
    if (at > now) break;
    const client = clients[index]!;
    if (client.held === 0 && mayPost(client)) {
      sendLags[index * perSession + frame] = now - at;
      post(client);
    } else client.held++;
    next++;
  }
  if (next < count * perSession) {
    const index = next % count;
    setTimeout(tick, Math.max(0, due(index, (next - index) / count) - performance.now()));
  }
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

const emit = (line: unknown) =>
  new Promise<void>((resolve) =>
    process.stdout.write(`${JSON.stringify(line)}\n`, () => resolve()),
  );

/**
 * A failure before the clock starts (a refused open, a closed connection, set-up not
 * done in time) ends the run at once with why, as its result.
 */
function giveUp(why: string): void {
  if (start !== Infinity || gaveUp) return;
  gaveUp = true;
  process.stderr.write(`gateway-load: ${why}\n`);
  const result: LoadResult = {
    sessions: count,
    frames: 0,
    lost: count * perSession,
    p50: NaN,
    p99: NaN,
    max: NaN,
    sendP99: NaN,
    cpuUs: NaN,
    failure: why,
  };
  void emit({ result }).then(() => process.exit(1));
}
let gaveUp = false;
const SETUP_MS = 60_000;
const setup = setTimeout(
  () =>
    giveUp(
      `set-up did not finish within ${SETUP_MS} ms (${clients.length} of ${count} sessions open, ${warmCount} warmed up)`,
    ),
  SETUP_MS,
);

// Connect in batches: a flood of simultaneous handshakes only measures the accept queue.
for (let i = 0; i < count; i += 50) {
  const batch = Array.from({ length: Math.min(50, count - i) }, (_, k) => connectClient(i + k));
  clients.push(...(await Promise.all(batch)));
}
// Warm-up: one frame per session, every reply in, before the clock starts.
await new Promise<void>((resolve) => {
  warmed = resolve;
  for (const client of clients) post(client);
});
clearTimeout(setup);
await emit({ phase: 'start' });
const cpuBefore = process.cpuUsage();
start = performance.now() + 100;
const finished = new Promise<void>((resolve) => (allIn = resolve));
setTimeout(tick, 100);
const deadline = setTimeout(() => allIn?.(), seconds * 1000 + 100 + DRAIN_MS);
await finished;
clearTimeout(deadline);
const cpu = process.cpuUsage(cpuBefore);
await emit({ phase: 'stop' });

// A reply that never came counts as late as the wait for it (a lower bound).
const ended = performance.now();
for (let index = 0; index < count; index++) {
  for (let frame = Math.max(0, clients[index]!.received - 1); frame < perSession; frame++) {
    lags[index * perSession + frame] = ended - due(index, frame);
  }
}
const got = lags.sort();
sendLags.sort();
const result: LoadResult = {
  sessions: count,
  frames: timedReplies,
  lost: count * perSession - timedReplies,
  p50: percentile(got, 0.5),
  p99: percentile(got, 0.99),
  max: got[got.length - 1] ?? NaN,
  sendP99: percentile(sendLags, 0.99),
  cpuUs: (cpu.user + cpu.system) / Math.max(1, timedReplies),
  ...(failure !== undefined ? { failure } : {}),
};
// End the sessions the way a client does ('close', numbered after the last frame).
for (const client of clients) {
  if (client.closed) continue;
  if (bare) client.socket.end(clientFrame(OP_CLOSE, Buffer.alloc(0), MASK));
  else client.socket.write(text({ type: 'close', seq: client.sent + 1 }));
}
await emit({ result });
setTimeout(() => process.exit(0), 2000).unref();
await Promise.all(
  clients.map(
    (client) =>
      new Promise<void>((resolve) =>
        client.closed ? resolve() : client.socket.once('close', () => resolve()),
      ),
  ),
);
process.exit(0);

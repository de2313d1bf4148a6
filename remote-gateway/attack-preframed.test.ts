/**
 * The gateway's pre-framed data messages (ws-preframed.ts: header and frame in one
 * TCP write, encoded into the scratch buffer sessions without a replay log reuse, see
 * gateway-session.ts sendFrame) against clients that make that path hard: outputs whose
 * WebSocket payload sits at every header-length boundary (125/126, 65535/65536) and at
 * the scratch buffer's own edge (64 KiB with the header, and one byte over), with and
 * without permessage-deflate negotiated (ws then frames and compresses itself, and
 * holds what it was given until its deflate is done), read by a client that stops
 * reading in bursts (writes queue behind the kernel), with heartbeats asked for (ws's
 * own frames between the raw writes), and a client that drops its socket mid-stream
 * while another session goes on. Each frame is decoded with its CRC checked and
 * compared byte for byte. Real gateway on loopback, real ws sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, type Manifest, RuntimeData } from '../web/core/internal.ts';
import type { Gateway } from './gateway.ts';
import { startLoopbackGateway, until } from './testing/loopback.ts';
import { creditSession } from './testing/credit-client.ts';
import { selfSignedCertificate } from './testing/self-signed.ts';
import { islandOf } from './testing/raw-client.ts';
import { headerLength } from './ws-preframed.ts';

const TOKEN = 'attack-preframed-token-0123456789abc';
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-preframed' },
  nodes: [{ id: 'pass', node_type: 'PassThrough', params: {} }],
  connections: [],
};

/** A binary frame's WebSocket payload: 2 bytes of port, then the encoded frame. */
const OVERHEAD =
  2 + encodeFrame({ sequence: 1, data: RuntimeData.binary(new Uint8Array(0)) }).length;
/** The scratch buffer's size (gateway-session.ts SCRATCH_BYTES): header + payload up to it. */
const SCRATCH = 64 << 10;
/** WebSocket payload lengths the outputs are made to have. */
const PAYLOADS = [
  OVERHEAD,
  OVERHEAD + 1,
  125,
  126,
  127,
  3000,
  65535,
  65536,
  65537,
  SCRATCH - headerLength(SCRATCH - 4), // header + payload = the scratch buffer exactly
  SCRATCH - headerLength(SCRATCH - 4) + 1, // one byte more: not the scratch
  200_000,
];

/** Frame `sequence` of session `session`: every byte a function of both and its index. */
function bytesOf(session: number, sequence: number): Uint8Array {
  const payload = PAYLOADS[sequence % PAYLOADS.length]!;
  return Uint8Array.from(
    { length: payload - OVERHEAD },
    (_, i) => (session * 31 + sequence * 7 + i) & 0xff,
  );
}

let plain: Gateway;
let deflating: Gateway;
/** Over TLS the raw socket is a TLSSocket: its writes are encrypted, then queued. */
let secure: Gateway;
beforeAll(async () => {
  plain = await startLoopbackGateway(TOKEN);
  deflating = await startLoopbackGateway(TOKEN, { compression: true });
  secure = await startLoopbackGateway(TOKEN, { tls: selfSignedCertificate() });
});
afterAll(async () => {
  await plain?.close();
  await deflating?.close();
  await secure?.close();
});

interface SessionOptions {
  frames: number;
  /** Pause reading for `pauseMs` after every `burst` messages. */
  burst?: number;
  pauseMs?: number;
  deflate?: boolean;
  heartbeatMs?: number;
  /** Drop the socket (no close frame) after this many output messages. */
  dropAfter?: number;
}

/** One session sending `frames` binary frames within its credit; what it decoded, in order. */
function session(gateway: Gateway, id: number, options: SessionOptions) {
  return creditSession({
    url: gateway.url,
    token: TOKEN,
    island: islandOf(manifest, 'pass', 'pass'),
    maxMessageSize: 1 << 30,
    heartbeatMs: options.heartbeatMs,
    socket: {
      perMessageDeflate: options.deflate ?? false,
      rejectUnauthorized: false, // the TLS gateway's self-signed certificate
    },
    frames: options.frames,
    frameOf: (sequence) => RuntimeData.binary(bytesOf(id, sequence)),
    collect: (frame) => {
      if (frame.data.kind !== 'binary') throw new Error(`kind ${frame.data.kind}`);
      return { sequence: frame.sequence, bytes: frame.data.bytes };
    },
    bursts: options.burst ? { every: options.burst, pauseMs: options.pauseMs ?? 20 } : undefined,
    onMessage: (ws, count) => {
      if (options.dropAfter === undefined || count !== options.dropAfter) return undefined;
      (ws as unknown as { _socket: { resetAndDestroy(): void } })._socket.resetAndDestroy();
      return 'dropped';
    },
  });
}

function expectExact(id: number, got: { sequence: number; bytes: Uint8Array }[], frames: number) {
  expect(got.map((f) => f.sequence)).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
  for (const { sequence, bytes } of got) {
    const want = bytesOf(id, sequence);
    if (bytes.length !== want.length || bytes.some((v, i) => v !== want[i])) {
      throw new Error(
        `session ${id} frame ${sequence} (${want.length} bytes): differs from what was sent`,
      );
    }
  }
}

describe('pre-framed outputs at every header length', () => {
  for (const deflate of [false, true]) {
    it(`${deflate ? 'permessage-deflate negotiated' : 'no compression'}: every boundary size arrives byte-exact`, async () => {
      const gateway = deflate ? deflating : plain;
      const frames = 4 * PAYLOADS.length;
      const result = await session(gateway, 1, { frames, deflate });
      expect(result.extensions).toBe(deflate ? 'permessage-deflate' : '');
      expect(result.problems).toEqual([]);
      expect(result.why).toBe('done');
      expectExact(1, result.got, frames);
    }, 60_000);
  }
});

describe('pre-framed outputs to slow readers', () => {
  for (const deflate of [false, true]) {
    it(`${deflate ? 'deflate' : 'plain'}: three sessions reading in bursts, heartbeats asked, each frame byte-exact`, async () => {
      const gateway = deflate ? deflating : plain;
      const frames = 20 * PAYLOADS.length;
      const results = await Promise.all([
        session(gateway, 11, { frames, deflate, burst: 5, pauseMs: 30, heartbeatMs: 100 }),
        session(gateway, 12, { frames, deflate, burst: 17, pauseMs: 60 }),
        session(gateway, 13, { frames, deflate, heartbeatMs: 100 }),
      ]);
      results.forEach((result, i) => {
        expect(result.problems).toEqual([]);
        expect(result.why).toBe('done');
        expectExact(11 + i, result.got, frames);
      });
    }, 120_000);
  }
});

describe('pre-framed outputs over TLS', () => {
  it('three slow readers over wss: every boundary size byte-exact', async () => {
    expect(secure.url).toMatch(/^wss:/);
    const frames = 10 * PAYLOADS.length;
    const results = await Promise.all([
      session(secure, 31, { frames, burst: 5, pauseMs: 30, heartbeatMs: 100 }),
      session(secure, 32, { frames, burst: 17, pauseMs: 60 }),
      session(secure, 33, { frames }),
    ]);
    results.forEach((result, i) => {
      expect(result.problems).toEqual([]);
      expect(result.why).toBe('done');
      expectExact(31 + i, result.got, frames);
    });
  }, 120_000);
});

describe('a socket that dies mid-write', () => {
  it('drops without a close while its outputs are being written; the gateway and another session carry on', async () => {
    const before = plain.metrics.sessionsActive;
    const frames = 20 * PAYLOADS.length;
    const [dropped, other] = await Promise.all([
      // Reads a little, then stalls, then its TCP connection is reset mid-stream.
      session(plain, 21, { frames, burst: 3, pauseMs: 200, dropAfter: 40 }),
      session(plain, 22, { frames, burst: 7, pauseMs: 10 }),
    ]);
    expect(dropped.why).toBe('dropped');
    expect(dropped.problems).toEqual([]);
    expect(other.problems).toEqual([]);
    expect(other.why).toBe('done');
    expectExact(22, other.got, frames);
    await until(() => plain.metrics.sessionsActive === before, 'the dropped session ended');
    // And the next session after it is served whole.
    const after = await session(plain, 23, { frames: 2 * PAYLOADS.length });
    expect(after.why).toBe('done');
    expectExact(23, after.got, 2 * PAYLOADS.length);
  }, 120_000);
});

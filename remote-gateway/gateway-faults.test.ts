/**
 * Faults stay in their session: hostile sequences from an authenticated client fail
 * that client's session with a typed error and a close; the gateway process is not
 * touched (the last-resort handler never runs) and keeps serving others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import {
  encodeFrame,
  GATEWAY_MORE_PARTS,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  type Manifest,
  packFrame,
  RuntimeData,
} from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { installLastResort } from './last-resort.ts';
import { islandOf, RawClient, rssMiB } from './testing/raw-client.ts';

const TOKEN = 'faults-token-0123456789';
const island = islandOf(calculator as Manifest, 'pass1', 'pass2');

let gateway: Gateway;
let client: RemoteProxyClient;
let uninstall: () => void;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN] });
  uninstall = installLastResort(gateway.metrics, () => {});
  client = new RemoteProxyClient(
    { host: '127.0.0.1', port: gateway.port },
    { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
});
afterAll(async () => {
  uninstall?.();
  await gateway?.close();
});

/** One whole frame of binary data on input port 0, as a single WebSocket message. */
function binaryMessage(sequence: number, payload: Uint8Array): Uint8Array {
  return packFrame(0, encodeFrame({ sequence, data: RuntimeData.binary(payload) }), 1 << 30)[0]!;
}

/** The gateway still gives a well-behaved client the right answer. */
async function stillServes(): Promise<void> {
  expect(await client.execute(calculator as Manifest, RuntimeData.json(1))).toEqual(
    RuntimeData.json(6),
  );
}

describe('a fault stays in its session', () => {
  it('end on port 0, a data frame after it, close: the session fails, the process does not', async () => {
    const raw = await RawClient.open(gateway.url, TOKEN, island);
    raw.send({ type: 'end', port: 0, seq: 1 });
    raw.sendFrame(0, 2, RuntimeData.json(1));
    raw.send({ type: 'close', seq: 3 });
    const { message, code } = await raw.ending();
    expect(code).toBeGreaterThanOrEqual(1000);
    expect(message).toMatchObject({ type: 'error' });
    // Let any stray rejection of the session's chain surface before counting.
    await new Promise((resolve) => setImmediate(resolve));
    await stillServes();
    expect(gateway.metrics.unhandled).toBe(0);
  });
});

/** A CPython node that takes a while per input: what it has not taken yet is held. */
const slow: Manifest = {
  version: 'v1',
  metadata: { name: 'slow' },
  nodes: [
    {
      id: 'slow',
      node_type: 'PythonNode',
      params: {
        source:
          'import time\nfrom remotemedia import Node\nclass Slow(Node):\n    def process(self, data):\n        time.sleep(0.2)\n        return None\n',
      },
    },
  ],
  connections: [],
};

/**
 * Sends as fast as TCP takes it, ignoring credit; the client's own send queue is kept
 * under `queued` bytes so that what grows in this process is the gateway's doing.
 */
async function flood(
  raw: RawClient,
  count: number,
  make: (i: number) => Uint8Array,
  queued = 4 << 20,
) {
  let sent = 0;
  while (sent < count && raw.open) {
    if (raw.ws.bufferedAmount > queued) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    raw.sendBinary(make(sent++));
  }
  return sent;
}

describe('refusals have their kind', () => {
  it.each([
    ['null', null, 'unauthorized'],
    ['an array', [TOKEN], 'protocol'],
  ])('a token sent as %s is refused, with its kind', async (_, token, kind) => {
    const raw = await RawClient.connect(gateway.url);
    raw.send({ type: 'open', version: GATEWAY_PROTOCOL_VERSION, token, island });
    const { message, code } = await raw.ending();
    expect(code).toBe(1008);
    expect(message).toMatchObject({ type: 'error', error: { kind } });
  });
});

describe('limits the client cannot ignore', () => {
  it('credit: 1,200 frames of 1 MB against a window of 64 end the session (protocol, 1008); memory stays bounded', async () => {
    const before = rssMiB();
    const raw = await RawClient.open(gateway.url, TOKEN, islandOf(slow, 'slow', 'slow'));
    const payload = new Uint8Array(1_000_000).fill(7);
    const sent = await flood(raw, 1200, (i) => binaryMessage(i + 1, payload));
    const { message, code } = await raw.ending();
    expect(code).toBe(1008);
    expect(message).toMatchObject({ type: 'error', error: { kind: 'protocol' } });
    expect(String((message!.error as { message: string }).message)).toContain(
      'beyond the credit granted',
    );
    // The first frame past the window ended it: not 1,200 taken.
    expect(sent).toBeLessThan(1200);
    expect(gateway.metrics.framesIn).toBeGreaterThan(GATEWAY_WINDOW);
    await stillServes();
    expect(rssMiB() - before).toBeLessThan(300);
    expect(gateway.metrics.unhandled).toBe(0);
  }, 60_000);

  it('parts: 3 million 3-byte parts of one frame are refused at the part cap; memory stays bounded', async () => {
    const before = rssMiB();
    const raw = await RawClient.open(gateway.url, TOKEN, island);
    const part = Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1);
    const sent = await flood(raw, 3_000_000, () => part, 64 << 10);
    const { message, code } = await raw.ending();
    expect(code).toBe(1008);
    expect(message).toMatchObject({ type: 'error', error: { kind: 'protocol' } });
    expect(String((message!.error as { message: string }).message)).toMatch(/over \d+ parts/);
    expect(sent).toBeLessThan(3_000_000);
    await stillServes();
    expect(rssMiB() - before).toBeLessThan(100);
    expect(gateway.metrics.unhandled).toBe(0);
  }, 60_000);

  it("the part cap is the operator's (maxPartsPerFrame / --max-parts-per-frame): 9 parts where 8 are allowed", async () => {
    const strict = await startGateway({ port: 0, tokens: [TOKEN], maxPartsPerFrame: 8 });
    try {
      const raw = await RawClient.open(strict.url, TOKEN, island);
      const part = Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1);
      for (let i = 0; i < 9; i++) raw.sendBinary(part);
      const { message, code } = await raw.ending();
      expect(code).toBe(1008);
      expect(String((message!.error as { message: string }).message)).toMatch(
        /a frame in over 8 parts is refused/,
      );
    } finally {
      await strict.close();
    }
  });

  it('queued input: more bytes waiting than twice the frame limit end the session (limit, 1008)', async () => {
    // Within credit, but 1 MB frames pile up before a slow node (past its inbox of 32):
    // 2 x 2 MiB is the ceiling.
    const small = await startGateway({ port: 0, tokens: [TOKEN], maxFrameBytes: 2 << 20 });
    const unhook = installLastResort(small.metrics, () => {});
    try {
      const raw = await RawClient.open(small.url, TOKEN, islandOf(slow, 'slow', 'slow'));
      const payload = new Uint8Array(1_000_000);
      const sent = await flood(raw, GATEWAY_WINDOW, (i) => binaryMessage(i + 1, payload));
      const { message, code } = await raw.ending();
      expect(code).toBe(1008);
      expect(message).toMatchObject({ type: 'error', error: { kind: 'limit' } });
      expect(String((message!.error as { message: string }).message)).toContain(
        'queued and not yet taken',
      );
      expect(sent).toBeLessThanOrEqual(GATEWAY_WINDOW);
      expect(small.metrics.unhandled).toBe(0);
    } finally {
      unhook();
      await small.close();
    }
  }, 60_000);

  it('parts on a port the session does not have are refused at once', async () => {
    const raw = await RawClient.open(gateway.url, TOKEN, island);
    raw.sendBinary(Uint8Array.of(5, GATEWAY_MORE_PARTS >> 8, 1));
    const { message, code } = await raw.ending();
    expect(code).toBe(1008);
    expect(String((message!.error as { message: string }).message)).toContain('port 5');
  });
});

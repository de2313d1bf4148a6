/**
 * The gateway's pooled output messages (each frame encoded straight into a
 * Buffer.allocUnsafe slice, input payloads copied into Node's pool) against clients
 * that read slowly: two sessions at once, each reading in bursts with its socket
 * paused between them (so the gateway's socket buffers and its high-water wait are
 * exercised), frames of four sizes (inside one pool slice, over half a pool block,
 * over the client's message size so sent in parts), every sample a function of its
 * session, frame and index. Each frame is assembled from its parts and decoded with
 * the CRC checked (a decode error fails the test, nothing is skipped), then compared
 * with what was sent, value by value. Real gateway on loopback, real ws sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { creditSession } from './testing/credit-client.ts';
import { islandOf } from './testing/raw-client.ts';

const TOKEN = 'attack-pooled-output-token-0123456789';
/** The client's largest message: frames above it come in parts. */
const CLIENT_MAX = 64 << 10;
/** Sample counts: 16 B, 400 B (one pool slice), 12 KB (own buffer), 160 KB (parts). */
const SIZES = [4, 100, 3000, 40_000];
const FRAMES = 240;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
});
afterAll(async () => {
  await gateway?.close();
});

/** Sessions from 3 on send 12 KB frames only (one message each, never in parts). */
const MESSAGE_SIZED = 3;

function samplesOf(session: number, sequence: number): Float32Array {
  const n = session >= MESSAGE_SIZED ? 3000 : SIZES[sequence % SIZES.length]!;
  // Integers exactly representable in float32: equality is byte equality.
  return new Float32Array(n).map((_, i) => session * 1_000_000 + sequence * 1000 + (i % 997));
}

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-pooled-output' },
  nodes: [{ id: 'pass', node_type: 'PassThrough', params: {} }],
  connections: [],
};

/**
 * One session: sends FRAMES frames within its credit, reads in bursts (paused for
 * `pauseMs` after every `burst` messages), returns what it decoded, in order.
 */
async function slowSession(
  session: number,
  burst: number,
  pauseMs: number,
  frames = FRAMES,
): Promise<{ sequence: number; samples: Float32Array }[]> {
  const { why, got, problems } = await creditSession({
    url: gateway.url,
    token: TOKEN,
    island: islandOf(manifest, 'pass', 'pass'),
    maxMessageSize: CLIENT_MAX,
    frames,
    frameOf: (sequence) => RuntimeData.audio(samplesOf(session, sequence), 16000, 1),
    collect: (frame) => {
      if (frame.data.kind !== 'audio') throw new Error(`kind ${frame.data.kind}`);
      return { sequence: frame.sequence, samples: frame.data.samples };
    },
    // A slow reader: stop reading for a while; TCP fills, the gateway buffers.
    bursts: { every: burst, pauseMs },
  });
  expect(problems).toEqual([]);
  expect(why).toBe('done');
  return got;
}

describe('pooled output buffers with slow readers', () => {
  it('two sessions reading in bursts get every frame byte for byte, CRC checked', async () => {
    const [a, b] = await Promise.all([slowSession(1, 7, 40), slowSession(2, 3, 25)]);
    for (const [session, got] of [
      [1, a],
      [2, b],
    ] as const) {
      expect(got.map((f) => f.sequence)).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
      for (const { sequence, samples } of got) {
        const want = samplesOf(session, sequence);
        if (samples.length !== want.length || samples.some((v, i) => v !== want[i])) {
          throw new Error(`session ${session} frame ${sequence}: bytes differ from what was sent`);
        }
      }
    }
  }, 120_000);

  // Past the gateway's high water (4 MiB queued on the socket, SEND_HIGH_WATER): the
  // sink waits while ws holds thousands of pooled messages; none may change meanwhile.
  it('a client that stops reading while a node makes 30 MB of small items gets each byte-exact', async () => {
    await floodSession();
  }, 120_000);

  // Sessions without a replay log encode into one buffer the whole gateway reuses
  // while sockets take at once what is written: a socket that backs up keeps hold of
  // it, and other sessions' frames must then go elsewhere, not over its bytes. Here
  // the flood's socket backs up (its client reads nothing for 3 s) while a second
  // session, started a second in, sends and reads 1000 frames of one message each.
  it('a socket that backs up keeps its bytes while another session sends on', async () => {
    const [, other] = await Promise.all([
      floodSession(),
      new Promise((resolve) => setTimeout(resolve, 1000)).then(() =>
        slowSession(MESSAGE_SIZED, 1e9, 0, 1000),
      ),
    ]);
    expect(other.map((f) => f.sequence)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (const { sequence, samples } of other) {
      const want = samplesOf(MESSAGE_SIZED, sequence);
      if (samples.length !== want.length || samples.some((v, i) => v !== want[i])) {
        throw new Error(`frame ${sequence}: bytes differ from what was sent`);
      }
    }
  }, 120_000);
});

/** A PythonNode floods 10,000 items of 3000 bytes at a client that reads nothing for 3 s. */
async function floodSession(): Promise<void> {
  const items = 10_000;
  const flood: Manifest = {
    version: 'v1',
    metadata: { name: 'attack-pooled-flood' },
    nodes: [
      {
        id: 'py',
        node_type: 'PythonNode',
        params: {
          source: `
from remotemedia import Node
class Flood(Node):
    def process(self, data):
        ring = bytes(range(256)) * 13
        for i in range(${items}):
            yield ring[i % 256 : i % 256 + 3000]
`,
        },
      },
    ],
    connections: [],
  };
  const { why, got, problems } = await creditSession({
    url: gateway.url,
    token: TOKEN,
    island: islandOf(flood, 'py', 'py'),
    maxMessageSize: CLIENT_MAX,
    // One input, 'go', to start the node.
    frames: 1,
    frameOf: () => RuntimeData.json('go'),
    collect: (frame) => {
      if (frame.data.kind !== 'binary') throw new Error(`kind ${frame.data.kind}`);
      return frame.data.bytes;
    },
    onOpened: (ws) => {
      ws.pause(); // and read nothing for a while: the gateway's socket fills
      setTimeout(() => ws.resume(), 3000);
    },
  });
  expect(problems).toEqual([]);
  expect(why).toBe('done');
  expect(got).toHaveLength(items);
  got.forEach((bytes, i) => {
    if (bytes.length !== 3000 || bytes.some((b, k) => b !== ((i + k) & 0xff))) {
      throw new Error(`item ${i}: bytes differ from what the node made`);
    }
  });
}

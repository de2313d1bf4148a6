/**
 * What a gateway keeps once its sessions are over: nothing. Rounds of real sessions
 * (real ws clients on loopback, Gain on 20 ms frames, as the capacity benchmark runs
 * them) open, stream and close; after each round the gateway's own counts are back to
 * empty and the heap after a forced full GC is back where the previous round left it,
 * within a small part of what the same sessions hold while they are open (a session,
 * socket, pipeline or timer kept per ended session would grow it by a whole session
 * each). bench/gateway-heap.ts measures the same over the benchmark's windows.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import type { Gateway } from './gateway.ts';
import { creditSession } from './testing/credit-client.ts';
import { startLoopbackGateway, until } from './testing/loopback.ts';
import { islandOf } from './testing/raw-client.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOKEN = 'retention-token-0123456789abcdef';
const SESSIONS = 40;
const FRAMES = 60;
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'retention' },
  nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 } }],
  connections: [],
};
const audio = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1);

function settledHeap(): number {
  gc();
  gc();
  return getHeapStatistics().used_heap_size;
}

describe('gateway retention', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startLoopbackGateway(TOKEN, {
      maxSessionsPerClient: 1000,
      maxConnectionsPerAddress: 1000,
    });
  });
  afterAll(() => gateway.close());

  /** One round: SESSIONS sessions at once, each FRAMES frames then `end`; heap while open. */
  async function round(): Promise<number> {
    let openHeap = 0;
    let opened = 0;
    const results = await Promise.all(
      Array.from({ length: SESSIONS }, () =>
        creditSession({
          url: gateway.url,
          token: TOKEN,
          island: islandOf(manifest, 'gain', 'gain'),
          maxMessageSize: 1 << 20,
          frames: FRAMES,
          frameOf: () => audio,
          collect: (frame) => frame.sequence,
          onMessage: (_ws, count) => {
            // Once every session has its first output, all of them are open at once.
            if (count === 1 && ++opened === SESSIONS) openHeap = settledHeap();
            return undefined;
          },
        }),
      ),
    );
    for (const result of results) {
      expect(result.problems).toEqual([]);
      expect(result.why).toBe('done');
      expect(result.got).toHaveLength(FRAMES);
    }
    await until(
      () => gateway.metrics.sessionsActive === 0 && gateway.connections.connections === 0,
      'every session and connection of the round ended',
    );
    return openHeap;
  }

  it('keeps nothing of sessions that ended: counts empty, heap back within a fraction of one round', async () => {
    await round(); // JIT, WASM compile, slabs: what a first round leaves for good
    const before = settledHeap();
    const openHeap = await round();
    await round();
    await round();
    const after = settledHeap();
    const health = (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as {
      sessions: number;
    };
    expect(health.sessions).toBe(0);
    expect(gateway.metrics.sessionsActive).toBe(0);
    expect(gateway.metrics.sessionsTotal).toBe(4 * SESSIONS);
    // What SESSIONS open sessions hold; three rounds that each kept theirs would add 3x.
    const heldOpen = openHeap - before;
    expect(heldOpen).toBeGreaterThan(0);
    expect(after - before).toBeLessThan(heldOpen / 4);
  });
});

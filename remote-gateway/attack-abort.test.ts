/**
 * A client that goes away while a CPython generator node is blocked between items:
 * its session must end, and its node runner with it, well before the call deadline.
 * Real gateway on loopback, real CPython.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { islandOf, RawClient, type Received } from './testing/raw-client.ts';

const TOKEN = 'attack-abort-token-0123456789';
let gateway: Gateway;

beforeAll(async () => {
  // A long deadline: what ends the runner here must be the session's end, not it.
  gateway = await startGateway({
    port: 0,
    tokens: [TOKEN],
    containers: false,
    python: { callTimeoutMs: 120_000, spares: 0 },
  });
});
afterAll(async () => {
  await gateway?.close();
});

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-abort' },
  nodes: [
    {
      id: 'py',
      node_type: 'PythonNode',
      params: {
        source:
          'import time\nfrom remotemedia import Node\nclass Stuck(Node):\n    def process(self, data):\n        yield "first"\n        time.sleep(1000)\n        yield "never"\n',
      },
    },
  ],
  connections: [],
};

async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  return check();
}

describe('a client gone while a generator node is blocked', () => {
  it('ends its session and its runner at once (not at the call deadline)', async () => {
    const client = await RawClient.open(gateway.url, TOKEN, islandOf(manifest, 'py', 'py'));
    client.sendFrame(0, 1, RuntimeData.json('go'));
    await client.waitFor(
      (r: Received) => r.kind === 'frame' && r.data.kind === 'json' && r.data.value === 'first',
    );
    expect(gateway.python.running.length).toBe(1);
    client.terminate();
    // Within 10 s of the cut, against a 120 s deadline.
    expect(await until(() => gateway.metrics.sessionsActive === 0)).toBe(true);
    expect(await until(() => gateway.python.running.length === 0)).toBe(true);
  }, 60_000);
});

/**
 * Faults stay in their session: hostile sequences from an authenticated client fail
 * that client's session with a typed error and a close; the gateway process is not
 * touched (the last-resort handler never runs) and keeps serving others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import { type Manifest, RuntimeData } from '../web/core/index.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { installLastResort } from './last-resort.ts';
import { islandOf, RawClient } from './testing/raw-client.ts';

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

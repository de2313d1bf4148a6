/**
 * RemoteProxyClient from the package's Node entry reaches a real gateway on Node
 * with nothing handed over (Node 20 has no global WebSocket: the entry brings ws);
 * the platform-neutral client, given no WebSocket where there is none, says what to
 * pass instead of "Socket is not a constructor".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import calculator from '../../examples/manifests/calculator.json' with { type: 'json' };
import { type Gateway, startGateway } from '../../remote-gateway/index.ts';
import { RemoteProxyClient, RuntimeData } from '../../web/index.node.ts';
import { RemoteProxyClient as AnyPlatformClient } from '../../web/runtime/remote/remote-proxy-client.ts';

const TOKEN = 'node-entry-client-token';
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN] });
});
afterAll(() => gateway?.close());

const remote = () => ({ host: '127.0.0.1', port: Number(new URL(gateway.url).port) });

describe("RemoteProxyClient from 'remotemedia-web' on Node", () => {
  it('runs a manifest on the gateway without being given a WebSocket', async () => {
    const client = new RemoteProxyClient(remote(), { token: TOKEN });
    expect(await client.execute(calculator, RuntimeData.json(1))).toEqual(RuntimeData.json(6));
  });

  it.skipIf(typeof globalThis.WebSocket === 'function')(
    'the platform-neutral client without a WebSocket says what to pass',
    async () => {
      const client = new AnyPlatformClient(remote(), { token: TOKEN });
      await expect(client.execute(calculator, RuntimeData.json(1))).rejects.toMatchObject({
        kind: 'usage',
        message: expect.stringContaining('pass { WebSocket }'),
      });
    },
  );
});

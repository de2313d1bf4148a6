import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';

const TOKEN = 'python-path-token-0123456789';
const modules = mkdtempSync(join(tmpdir(), 'rm-user-modules-'));
writeFileSync(
  join(modules, 'my_nodes.py'),
  'from remotemedia import Node\n\n\nclass Shout(Node):\n    def process(self, data):\n        return str(data).upper() + "!"\n',
);
const shout: Manifest = {
  version: 'v1',
  metadata: { name: 'shout' },
  nodes: [{ id: 'shout', node_type: 'PythonNode', params: { class: 'my_nodes:Shout' } }],
  connections: [],
};

/** The gateway's pythonPath (--python-path): a PythonNode class from the user's own module. */
describe('a gateway with pythonPath', () => {
  const gateways: Gateway[] = [];
  const clientOf = (gateway: Gateway) =>
    new RemoteProxyClient(
      { host: '127.0.0.1', port: gateway.port },
      { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
  let withPath: Gateway;
  let without: Gateway;
  beforeAll(async () => {
    withPath = await startGateway({ port: 0, tokens: [TOKEN], python: { pythonPath: [modules] } });
    without = await startGateway({ port: 0, tokens: [TOKEN] });
    gateways.push(withPath, without);
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
  });

  it('imports the class from a folder on its pythonPath, and not without it', async () => {
    expect(await clientOf(withPath).execute(shout, RuntimeData.json('hi'))).toEqual(
      RuntimeData.json('HI!'),
    );
    const error = await clientOf(without)
      .execute(shout, RuntimeData.json('hi'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'shout' });
    expect(String((error as Error).message)).toContain("No module named 'my_nodes'");
  });

  it('refuses a pythonPath entry that is not a folder, naming it, before it listens', async () => {
    const missing = join(modules, 'nowhere');
    await expect(
      startGateway({ port: 0, tokens: [TOKEN], python: { pythonPath: [missing] } }),
    ).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringContaining(`pythonPath entry '${missing}' is not a folder`),
    });
  });
});

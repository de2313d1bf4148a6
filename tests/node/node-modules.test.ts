import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { importNodeModule } from '../../web/core/node-module.ts';
import { PipelineRunner, RuntimeData } from '../../web/core/internal.ts';
import { RemoteProxyClient } from '../../web/runtime/remote/remote-proxy-client.ts';
import { GATEWAY_NODE_FLAGS } from '../../remote-gateway/node-flags.ts';

/**
 * A node module (an ES module exporting node definitions) moves like the built-ins:
 * the same file the browser's pipeline worker imports (tests/package/pack-bundlers
 * .test.ts) runs in a PipelineRunner on Node and on a gateway started with --nodes.
 */
const run = promisify(execFile);
const MY_NODES = resolve('tests/package/bundler-apps/my-nodes.js');
const scratch = mkdtempSync(join(tmpdir(), 'rm-node-modules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const whereAmI = {
  version: 'v1',
  metadata: { name: 'mine' },
  nodes: [{ id: 'where', node_type: 'WhereAmI', params: {} }],
  connections: [],
} as const;

function moduleFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return pathToFileURL(path).href;
}

describe('node modules', () => {
  it('load by URL and run in a PipelineRunner on Node', async () => {
    const nodes = await importNodeModule(pathToFileURL(MY_NODES).href);
    expect(nodes.map((n) => n.type)).toEqual(['WhereAmI']);
    const runner = new PipelineRunner({ nodes });
    const out = await runner.executeUnary(whereAmI, RuntimeData.json(7));
    // Node's global object is a plain Object; the browser worker's is DedicatedWorkerGlobalScope.
    expect(out).toMatchObject({ kind: 'json', value: { input: 7, scope: 'Object' } });
  });

  it('a module that exports something else is a usage error naming it and what is valid', async () => {
    const url = moduleFile('none.js', 'export const answer = 42;\n');
    await expect(importNodeModule(url)).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/none\.js: exports no array of node definitions; valid is/),
    });
  });

  it('a definition without a type, a create or a params schema is named by its index', async () => {
    const noCreate = moduleFile(
      'no-create.js',
      "export default [{ type: 'A', params: { '~standard': {} } }];\n",
    );
    await expect(importNodeModule(noCreate)).rejects.toThrow(
      /no-create\.js: nodes\[0\] \('A'\) has no `create\(params, context\)` function/,
    );
    const noParams = moduleFile(
      'no-params.js',
      "export const nodes = [{ type: 'B', params: { '~standard': {} }, create() {} }, { type: 'C', create() {} }];\n",
    );
    await expect(importNodeModule(noParams)).rejects.toThrow(
      /no-params\.js: nodes\[1\] \('C'\) has no `params` schema/,
    );
  });

  it('a module that does not load says so, with the reason', async () => {
    const broken = moduleFile('broken.js', 'export default [;\n');
    await expect(importNodeModule(broken)).rejects.toThrow(/broken\.js did not load: /);
  });
});

describe('remotemedia-gateway --nodes', () => {
  let gateway: ChildProcess | undefined;
  afterAll(() => gateway?.kill());

  it('runs the module’s node for a client', async () => {
    // One process (no npx in between, and its Node flags given so that main.ts does not
    // start itself again with them), so that kill() ends the gateway itself.
    gateway = spawn(
      process.execPath,
      [
        ...GATEWAY_NODE_FLAGS,
        '--import',
        'tsx',
        'remote-gateway/main.ts',
        '--port',
        '0',
        '--token',
        'secret-token',
        '--no-containers',
        '--nodes',
        MY_NODES,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolveUrl, reject) => {
      let seen = '';
      gateway!.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /RemoteMedia gateway on (\S+)/.exec(seen);
        if (match) resolveUrl(match[1]!);
      });
      gateway!.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${seen}`)));
    });
    const client = new RemoteProxyClient(
      { host: '127.0.0.1', port: Number(new URL(url).port) },
      { token: 'secret-token', WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
    const out = await client.execute(whereAmI, RuntimeData.json(3));
    expect(out).toMatchObject({ kind: 'json', value: { input: 3, scope: 'Object' } });
  });

  it('a module that is not one is one line and exit status 2', async () => {
    const bad = join(scratch, 'bad.js');
    writeFileSync(bad, 'export default 1;\n');
    const failed = await run(process.execPath, [
      '--import',
      'tsx',
      'remote-gateway/main.ts',
      '--port',
      '0',
      '--nodes',
      bad,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2 });
    const stderr = (failed as { stderr: string }).stderr.trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /^remotemedia-gateway: node module file:.*bad\.js: exports no array of node definitions/,
    );
  });
});

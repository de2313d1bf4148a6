/**
 * The attacks of issue 13 against a real gateway process (`node --import tsx
 * remote-gateway/main.ts`, as `npm run gateway` runs it): the three-message chain,
 * five bytes from a CPython node to its stdout and to the protocol's own fd, credit
 * ignored, and a million tiny parts. The process stays up and serves, its last-resort
 * handler never logs, and its peak resident memory (VmHWM in /proc) stays bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import {
  encodeFrame,
  GATEWAY_MORE_PARTS,
  type Manifest,
  RuntimeData,
} from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { GATEWAY_NODE_FLAGS } from './node-flags.ts';
import { islandOf, RawClient } from './testing/raw-client.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'process-token-0123456789';

let child: ChildProcess;
let url = '';
let stderr = '';
let client: RemoteProxyClient;

/** A /proc/<pid>/status field in MiB (VmRSS, VmHWM). */
function memoryMiB(field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
}

function pythonNode(body: string): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'attack' },
    nodes: [
      {
        id: 'py',
        node_type: 'PythonNode',
        params: {
          source: `import os, time\nfrom remotemedia import Node\nclass N(Node):\n    def process(self, data):\n        ${body}\n        return data + 1\n`,
        },
      },
    ],
    connections: [],
  };
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      // As its launchers start it: one process (without the flags main.ts starts a child
      // with them, and /proc/<pid> would be the parent's).
      ...GATEWAY_NODE_FLAGS,
      '--import',
      'tsx',
      'remote-gateway/main.ts',
      '--port',
      '0',
      '--token',
      TOKEN,
      '--no-containers',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /RemoteMedia gateway on (ws:\/\/\S+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${stderr}`)));
  });
  const port = Number(new URL(url).port);
  client = new RemoteProxyClient(
    { host: '127.0.0.1', port },
    { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
}, 60_000);
afterAll(() => {
  child?.kill('SIGKILL');
});

async function stillServes(): Promise<void> {
  expect(child.exitCode).toBeNull();
  expect(await client.execute(calculator as Manifest, RuntimeData.json(1))).toEqual(
    RuntimeData.json(6),
  );
}

describe('a real gateway process under the attacks of issue 13', () => {
  it('survives each attack, serves after it, never reaches its last resort, and its peak memory stays bounded', async () => {
    await stillServes();
    const baseline = memoryMiB('VmRSS');

    // 1. end on port 0, a frame after it, close.
    const chain = await RawClient.open(
      url,
      TOKEN,
      islandOf(calculator as Manifest, 'pass1', 'pass2'),
    );
    chain.send({ type: 'end', port: 0, seq: 1 });
    chain.sendFrame(0, 2, RuntimeData.json(1));
    chain.send({ type: 'close', seq: 3 });
    // The calculator may finish on `end` before the stray frame is read: then the
    // session ends `done`; otherwise the frame is a protocol error. Either way the
    // process lives (stillServes, and the last-resort count below).
    const chained = (await chain.ending()).message;
    if (chained?.type === 'done') expect(chained).toMatchObject({ type: 'done' });
    else expect(chained).toMatchObject({ error: { kind: 'protocol' } });
    await stillServes();

    // 2. Five bytes from a CPython node: to stdout (harmless), then to the protocol fd.
    const five = 'b"\\x01\\x00\\x00\\x00\\x00"';
    expect(await client.execute(pythonNode(`os.write(1, ${five})`), RuntimeData.json(1))).toEqual(
      RuntimeData.json(2),
    );
    await expect(
      client.execute(pythonNode(`os.write(4, ${five})`), RuntimeData.json(1)),
    ).rejects.toMatchObject({ kind: 'worker_lost' });
    await stillServes();

    // 3. Credit ignored: 1 MB frames to a slow node, as fast as TCP takes them.
    const flood = await RawClient.open(
      url,
      TOKEN,
      islandOf(pythonNode('time.sleep(0.2); return None'), 'py', 'py'),
    );
    const payload = new Uint8Array(1_000_000).fill(1);
    for (let i = 0; i < 1200 && flood.open; i++) {
      while (flood.ws.bufferedAmount > 4 << 20) await new Promise((r) => setTimeout(r, 1));
      const frame = encodeFrame({ sequence: i + 1, data: RuntimeData.binary(payload) });
      const message = new Uint8Array(frame.length + 2);
      message.set(frame, 2);
      flood.sendBinary(message);
    }
    expect((await flood.ending()).code).toBe(1008);
    await stillServes();

    // 4. A million 3-byte parts of one frame.
    const parts = await RawClient.open(
      url,
      TOKEN,
      islandOf(calculator as Manifest, 'pass1', 'pass2'),
    );
    const part = Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1);
    for (let i = 0; i < 1_000_000 && parts.open; i++) {
      while (parts.ws.bufferedAmount > 64 << 10) await new Promise((r) => setTimeout(r, 1));
      parts.sendBinary(part);
    }
    expect((await parts.ending()).code).toBe(1008);
    await stillServes();

    expect(stderr).not.toMatch(/unhandledRejection|uncaughtException/);
    // Before the fixes the credit flood alone held +750 MiB, the parts +479 MiB.
    expect(memoryMiB('VmHWM') - baseline).toBeLessThan(250);
  }, 120_000);
});

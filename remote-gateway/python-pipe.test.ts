/**
 * The CPython worker pipe: a node's stray writes to stdout cannot reach the
 * protocol, and a worker that does break the protocol (on its own descriptor) is
 * killed at once with `worker_lost: protocol violation (…)` — its session fails,
 * the gateway stays up, the last-resort handler never runs.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { installLastResort } from './last-resort.ts';
import { PipeProtocolError, ResponseReader } from './runner-pipe.ts';

const TOKEN = 'pipe-token-0123456789';
/** What a node writes to stdout: the response header of an error with no report. */
const FIVE_BYTES = 'b"\\x01\\x00\\x00\\x00\\x00"';

function node(body: string): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'pipe' },
    nodes: [
      {
        id: 'py',
        node_type: 'PythonNode',
        params: {
          source: `import os, sys\nfrom remotemedia import Node\nclass N(Node):\n    def process(self, data):\n${body
            .split('\n')
            .map((line) => `        ${line}`)
            .join('\n')}\n        return data + 1\n`,
        },
      },
    ],
    connections: [],
  };
}

let gateway: Gateway;
let client: RemoteProxyClient;
let uninstall: () => void;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
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

async function wellBehaved(): Promise<void> {
  expect(await client.execute(node('pass'), RuntimeData.json(1))).toEqual(RuntimeData.json(2));
}

describe("a node's stray stdout cannot reach the protocol", () => {
  const writes: [string, string][] = [
    ['os.write(1, ...)', `os.write(1, ${FIVE_BYTES})`],
    ['print', `print(${FIVE_BYTES}.decode("latin-1"), end="", flush=True)`],
    ['sys.stdout.buffer', `sys.stdout.buffer.write(${FIVE_BYTES}); sys.stdout.flush()`],
    ['sys.__stdout__', `sys.__stdout__.buffer.write(${FIVE_BYTES}); sys.__stdout__.flush()`],
    [
      'a subprocess',
      `import subprocess; subprocess.run(["printf", "\\\\001\\\\000\\\\000\\\\000\\\\000"])`,
    ],
  ];
  for (const [how, body] of writes) {
    it(`the five bytes written with ${how}: the node's answer is right, the gateway stays up`, async () => {
      expect(await client.execute(node(body), RuntimeData.json(41))).toEqual(RuntimeData.json(42));
      await wellBehaved();
      expect(gateway.metrics.unhandled).toBe(0);
    });
  }
});

describe('a worker that breaks the pipe protocol is killed at once', () => {
  // fd 4 is the protocol's response descriptor (RUNNER_FDS_ARGS): writing there on
  // purpose is what a buggy or hostile runner would do.
  const violations: [string, string, RegExp][] = [
    ['the five bytes', `os.write(4, ${FIVE_BYTES})`, /an error response with 0 items/],
    ['an unknown status', 'os.write(4, b"\\x07\\x00\\x00\\x00\\x00")', /unknown response status 7/],
    [
      'an oversized item',
      'os.write(4, b"\\x00\\x01\\x00\\x00\\x00\\xff\\xff\\xff\\xff")',
      /an item of 4294967295 bytes/,
    ],
    [
      'an error report that is not JSON',
      'os.write(4, b"\\x01\\x01\\x00\\x00\\x00\\x03\\x00\\x00\\x00abc")',
      /not UTF-8 JSON/,
    ],
    [
      'garbage',
      'os.write(4, b"Traceback (most recent call last)\\n")',
      /unknown response status 84/,
    ],
  ];
  for (const [what, body, reason] of violations) {
    it(`${what}: worker_lost, protocol violation; the gateway keeps serving`, async () => {
      const error = await client.execute(node(body), RuntimeData.json(1)).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'worker_lost' });
      expect(String((error as Error).message)).toMatch(/protocol violation \(/);
      expect(String((error as Error).message)).toMatch(reason);
      await wellBehaved();
      expect(gateway.metrics.unhandled).toBe(0);
    });
  }
});

describe('ResponseReader', () => {
  const limits = { maxItemBytes: 1 << 20, maxResponseBytes: 4 << 20, maxItems: 1000 };
  const response = (status: number, items: Uint8Array[]) => {
    const parts: Uint8Array[] = [Uint8Array.of(status, items.length, 0, 0, 0)];
    for (const item of items) {
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, item.length, true);
      parts.push(length, item);
    }
    return Buffer.concat(parts);
  };

  it('gives the same responses whatever the chunking, one byte at a time included', () => {
    const items = [new Uint8Array(0), Uint8Array.from({ length: 9_000 }, (_, i) => i & 0xff)];
    const report = new TextEncoder().encode(
      JSON.stringify({ type: 'ValueError', message: 'no', traceback: 'tb' }),
    );
    const bytes = Buffer.concat([response(0, items), response(1, [report]), response(0, [])]);
    for (const size of [1, 3, 4096, bytes.length]) {
      const reader = new ResponseReader(limits);
      const out = [];
      for (let at = 0; at < bytes.length; at += size)
        out.push(...reader.push(bytes.subarray(at, at + size)));
      const plain = out.map((r) =>
        r.status === 0 ? { status: 0, items: r.items.map((i) => Uint8Array.from(i)) } : r,
      );
      expect(plain).toEqual([
        { status: 0, items },
        { status: 1, report: { type: 'ValueError', message: 'no', traceback: 'tb' } },
        { status: 0, items: [] },
      ]);
      expect(reader.pendingBytes).toBe(0);
    }
  });

  it('whatever a worker writes, it only ever refuses with a PipeProtocolError, holding at most an item', () => {
    const small = { maxItemBytes: 4096, maxResponseBytes: 16384, maxItems: 8 };
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 40 }),
        fc.boolean(),
        (chunks, framed) => {
          const reader = new ResponseReader(small);
          for (const chunk of chunks) {
            // Half the runs start each chunk with a plausible header, to get past it.
            if (framed && chunk.length >= 5) chunk[0] = chunk[0]! & 1;
            try {
              reader.push(chunk);
            } catch (error) {
              expect(error).toBeInstanceOf(PipeProtocolError);
              return;
            }
            expect(reader.pendingBytes).toBeLessThanOrEqual(small.maxItemBytes + 600 + 5);
          }
        },
      ),
      { seed: 13, numRuns: 2000 },
    );
  });

  it('refuses a huge length header at once, holding nothing of what streams after it', () => {
    const reader = new ResponseReader(limits);
    expect(() => reader.push(Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0, 0x40))).toThrow(
      PipeProtocolError,
    );
  });

  it('holds what an item needs, not more: a 4 MiB stream in 64 KiB chunks under a 1 MiB limit', () => {
    const reader = new ResponseReader(limits);
    const item = new Uint8Array(1 << 20);
    const bytes = Buffer.concat(Array.from({ length: 4 }, () => response(0, [item])));
    let most = 0;
    let responses = 0;
    for (let at = 0; at < bytes.length; at += 65536) {
      responses += reader.push(bytes.subarray(at, at + 65536)).length;
      most = Math.max(most, reader.pendingBytes);
    }
    expect(responses).toBe(4);
    expect(most).toBeLessThan((1 << 20) + 65536);
  });
});

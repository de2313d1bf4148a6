/**
 * Resume after a dropped connection, for real: the client reaches the gateway
 * through a TCP relay on loopback that the test cuts (both sockets destroyed, no
 * close handshake), mid-stream, while frames are in flight both ways.
 */
import { Relay } from './testing/tcp-relay.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  encodeFrame,
  GATEWAY_PROTOCOL_VERSION,
  type JsonData,
  type Manifest,
  packFrame,
  RuntimeData,
} from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';

const TOKEN = 'resume-token-0123456789';
const ADD_ONE = `
from remotemedia import Node
class AddOne(Node):
    def process(self, data):
        return data + 1
`;
/** A gateway PassThrough, then a CPython node: frames cross a process both ways. */
const pipeline: Manifest = {
  version: 'v1',
  metadata: { name: 'resume' },
  nodes: [
    { id: 'in', node_type: 'PassThrough', params: {} },
    { id: 'py', node_type: 'PythonNode', params: { source: ADD_ONE } },
  ],
  connections: [{ from: 'in', to: 'py' }],
};

let gateway: Gateway;
const ws = { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket };

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], idleTimeoutMs: 3000 });
});
afterAll(() => gateway?.close());

async function healthz(): Promise<{ sessions: number }> {
  return (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json();
}

describe('resume after a dropped connection', () => {
  it('three cuts mid-stream: every frame arrives exactly once, in order', async () => {
    const relay = await Relay.start(gateway.port);
    const resumedBefore = gateway.metrics.resumedTotal;
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port, reconnect: true },
        ws,
      );
      const session = await client.stream(pipeline);
      const count = 3000;
      const cutsAt = new Set([400, 1300, 2200]);
      const received: number[] = [];
      const reading = (async () => {
        for await (const output of session) {
          received.push((output.data as JsonData).value as number);
          // Cut while inputs are still being sent and outputs are in flight.
          if (cutsAt.has(received.length)) relay.cut();
        }
      })();
      for (let i = 0; i < count; i++) await session.sendInput(RuntimeData.json(i));
      await session.close();
      await reading;
      expect(received).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(gateway.metrics.resumedTotal - resumedBefore).toBeGreaterThanOrEqual(3);
    } finally {
      await relay.close();
    }
  });

  it('without reconnect, a cut ends the session with a clear error', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const session = await new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        ws,
      ).stream(pipeline);
      await session.sendInput(RuntimeData.json(1));
      expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(2));
      relay.cut();
      const error = await session.recvOutput().catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'worker_lost' });
      expect(String((error as Error).message)).toContain('the gateway connection closed');
    } finally {
      await relay.close();
    }
  });

  it('a client that cannot come back: its session ends at the idle timeout, it gets a clear error', async () => {
    const relay = await Relay.start(gateway.port);
    const session = await new RemoteProxyClient(
      { host: '127.0.0.1', port: relay.port, reconnect: true },
      { ...ws, reconnectWindowMs: 1500 },
    ).stream(pipeline);
    await session.sendInput(RuntimeData.json(1));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(2));
    await relay.close(); // cut, and nothing listens there any more
    const error = await session.recvOutput().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'worker_lost' });
    expect(String((error as Error).message)).toMatch(
      /resuming at .* did not succeed within 1500 ms/,
    );
    // The gateway kept it for its idle timeout (3 s here), then let it go.
    for (let i = 0; i < 60 && (await healthz()).sessions > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await healthz()).sessions).toBe(0);
  });

  it('a resume from before what the gateway still keeps, or with a wrong key, is refused', async () => {
    const socket = await rawSocket();
    socket.send(
      JSON.stringify({
        type: 'open',
        version: GATEWAY_PROTOCOL_VERSION,
        token: TOKEN,
        resume: true,
        island: {
          manifest: { ...pipeline, nodes: [pipeline.nodes[0]], connections: [] },
          inputs: [{ sources: ['in'] }],
          outputs: [{ sink: 'in' }],
        },
      }),
    );
    const opened = JSON.parse(await text(socket));
    expect(opened).toMatchObject({ type: 'opened' });
    let outputs = 0;
    socket.on('message', (_data, isBinary) => void (isBinary && outputs++));
    for (let seq = 1; seq <= 40; seq++) {
      for (const part of packFrame(
        0,
        encodeFrame({ sequence: seq, data: RuntimeData.json(seq) }),
        1 << 20,
      ))
        socket.send(part);
    }
    while (outputs < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.send(JSON.stringify({ type: 'ack', seq: 40 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.terminate(); // a cut: the session waits for its client

    const resume = (received: number, resumeKey = opened.resumeKey) =>
      JSON.stringify({
        type: 'resume',
        version: GATEWAY_PROTOCOL_VERSION,
        token: TOKEN,
        sessionId: opened.sessionId,
        resumeKey,
        received,
      });
    const wrongKey = await rawSocket();
    wrongKey.send(resume(40, 'not-the-key'));
    expect(JSON.parse(await text(wrongKey)).error).toMatchObject({ kind: 'session_closed' });
    const tooOld = await rawSocket();
    tooOld.send(resume(10));
    expect(JSON.parse(await text(tooOld)).error.message).toContain(
      'cannot resume from 10: 11..40 were acknowledged and are no longer kept',
    );
  });
});

function rawSocket(): Promise<WebSocket> {
  const socket = new WebSocket(gateway.url);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function text(socket: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    const on = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      socket.off('message', on);
      resolve(data.toString());
    };
    socket.on('message', on);
  });
}

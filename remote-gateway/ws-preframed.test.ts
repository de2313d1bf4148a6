import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { headerLength, rawSocketOf, writeBinaryHeader } from './ws-preframed.ts';

/** A real ws server and client on loopback; resolves with the server's side of it. */
async function pair(perMessageDeflate: boolean) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate });
  await new Promise((resolve) => client.once('open', resolve));
  const received: { data: Buffer; binary: boolean }[] = [];
  client.on('message', (data, binary) => received.push({ data: data as Buffer, binary }));
  opened.push({ server, client });
  return { near: await accepted, client, received };
}

const opened: { server: WebSocketServer; client: WebSocket }[] = [];
afterEach(() => {
  for (const { server, client } of opened.splice(0)) {
    client.terminate();
    server.close();
  }
});

describe('pre-framed WebSocket messages (one write each)', () => {
  it('arrive as the exact binary messages, at every header length, in order with ws.send', async () => {
    const { near, received } = await pair(false);
    const raw = rawSocketOf(near);
    expect(raw).toBeDefined(); // ws 8's fields are where this module reads them
    const lengths = [0, 1, 125, 126, 3880, 65535, 65536, 70000];
    const sent = lengths.map((length, i) => {
      const payload = Uint8Array.from({ length }, (_, k) => (k * 7 + i) & 0xff);
      const head = headerLength(length);
      const framed = new Uint8Array(head + length);
      framed.set(payload, head);
      writeBinaryHeader(framed, length);
      raw!.write(framed);
      near.send(`text after ${length}`); // ws's own frames interleave in order
      return payload;
    });
    await expect.poll(() => received.length).toBe(2 * lengths.length);
    sent.forEach((payload, i) => {
      expect(received[2 * i]!.binary).toBe(true);
      expect(new Uint8Array(received[2 * i]!.data)).toEqual(payload);
      expect(received[2 * i + 1]!.data.toString()).toBe(`text after ${lengths[i]}`);
    });
  });

  it('is not used where ws frames messages itself: compression negotiated', async () => {
    const { near } = await pair(true);
    expect(near.extensions).toContain('permessage-deflate');
    expect(rawSocketOf(near)).toBeUndefined();
  });

  it('is not used once the socket is closing', async () => {
    const { near } = await pair(false);
    near.terminate();
    expect(rawSocketOf(near)).toBeUndefined();
  });
});

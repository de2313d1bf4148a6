/**
 * The gateway's data-path shortcuts give the bytes of the plain path: Node's CRC-32
 * (installed by the gateway) agrees with the codec's table loop, and a frame encoded
 * straight into its message (packFrameOf) is packFrame of encodeFrame, byte for byte;
 * and the idle timer, armed once rather than per frame, spares a session that keeps
 * talking past its timeout and ends one that goes quiet.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { startGateway } from './gateway.ts';
import { islandOf, RawClient } from './testing/raw-client.ts';
import {
  decodeFrame,
  encodeFrame,
  FrameAssembler,
  packFrame,
  type Manifest,
  packFrameOf,
  RuntimeData,
} from '../web/core/internal.ts';
import { crc32 } from '../web/core/crc32.ts';
import './gateway-session.ts'; // installs the native CRC-32, as the gateway does

/** The codec's own table loop, spelled out bit by bit (no native code). */
function bitwiseCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

describe('gateway data path', () => {
  it('the CRC-32 in use matches the bitwise definition at every length and offset', () => {
    const bytes = new Uint8Array(4000).map((_, i) => (i * 7919) & 0xff);
    for (const [start, end] of [
      [0, 4000],
      [0, 63],
      [0, 64],
      [3, 3843],
      [1, 2],
    ] as const) {
      expect(crc32(bytes, start, end)).toBe(bitwiseCrc32(bytes.subarray(start, end)));
      expect(crc32(bytes, start, end)).toBe(zlibCrc32(bytes.subarray(start, end)));
    }
    // Continued from an earlier checksum, as a streaming caller does.
    expect(crc32(bytes, 2000, 4000, crc32(bytes, 0, 2000))).toBe(bitwiseCrc32(bytes));
  });

  it('packFrameOf gives packFrame(encodeFrame) byte for byte, in one part or many', () => {
    const data = RuntimeData.audio(
      new Float32Array(960).map((_, i) => Math.sin(i)),
      48000,
      1,
    );
    for (const [port, max] of [
      [0, 1 << 20],
      [3, 1 << 20],
      [1, 1000],
      [0, 3],
    ] as const) {
      const frame = { sequence: 42, data };
      expect(packFrameOf(port, frame, max)).toEqual(packFrame(port, encodeFrame(frame), max));
    }
    const [part] = packFrameOf(2, { sequence: 7, data }, 1 << 20);
    const whole = new FrameAssembler(1 << 20).push(part!)!;
    expect(whole.port).toBe(2);
    const decoded = decodeFrame(whole.frame);
    expect(decoded.sequence).toBe(7);
    expect(decoded.data).toEqual(data);
  });

  it('a session that keeps sending outlives its idle timeout; one that goes quiet ends at it', async () => {
    const TOKEN = 'data-path-token-0123456789';
    const gateway = await startGateway({ port: 0, tokens: [TOKEN], idleTimeoutMs: 1000 });
    try {
      const manifest: Manifest = {
        version: 'v1',
        metadata: { name: 'pass' },
        nodes: [{ id: 'pass', node_type: 'PassThrough', params: {} }],
        connections: [],
      };
      const raw = await RawClient.open(gateway.url, TOKEN, islandOf(manifest, 'pass', 'pass'));
      const data = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1);
      // 25 frames 100 ms apart: 2.5 s of activity, past the 1 s timeout twice over
      // (the timer first fires while the client is active and must re-arm).
      for (let sequence = 1; sequence <= 25; sequence++) {
        raw.sendFrame(0, sequence, data);
        await raw.waitFor((r) => r.kind === 'frame' && r.sequence === sequence);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(raw.open).toBe(true);
      const { message, code } = await raw.ending();
      expect(code).toBe(1011);
      expect(JSON.stringify(message)).toContain('idle for 1000 ms');
    } finally {
      await gateway.close();
    }
  });
});

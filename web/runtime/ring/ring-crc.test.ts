/**
 * Frames through the in-process rings skip the CRC (RING_FRAME_CODEC), and nothing
 * else changes: the bytes are the codec's bytes with CRC 0, every item comes back
 * equal, and a frame sealed without a CRC is still refused by the default (wire)
 * decoder, as the gateway and CPython decode.
 *
 * CRC calls are counted by installing a counting native CRC (zlib's, so the values
 * stay right); the table loop is used only below 64 bytes, so every frame here is
 * larger than that.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { useNativeCrc32 } from '../../core/crc32.ts';
import { decodeFrame, encodeFrame, type Frame, RuntimeData } from '../../core/internal.ts';
import { createChannel, openReader, openWriter } from '../channel/channel.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  RING_CLOSED,
  RING_FRAME_CODEC,
} from './frame-ring.ts';

let crcCalls = 0;
useNativeCrc32((bytes, crc) => {
  crcCalls++;
  return zlibCrc32(bytes, crc);
});
afterAll(() => useNativeCrc32(undefined));
beforeEach(() => {
  crcCalls = 0;
});

const frames: Frame[] = [
  {
    sequence: 7,
    data: {
      ...RuntimeData.audio(
        new Float32Array(960).map((_, i) => Math.sin(i)),
        48000,
        1,
      ),
    },
  },
  { sequence: 8, data: RuntimeData.json({ text: 'x'.repeat(200) }) },
  { sequence: 9, data: { kind: 'binary', bytes: new Uint8Array(300).fill(5), mimeType: 'a/b' } },
];
frames[0]!.data.timestampUs = 20_000;

describe('ring frames carry no CRC', () => {
  it('the counter sees the CRCs of a wire encode and decode (so it can fail)', () => {
    decodeFrame(encodeFrame(frames[0]!));
    expect(crcCalls).toBe(2);
  });

  it('a frame through a FrameRing is the codec bytes with CRC 0, none computed or checked', () => {
    const buffer = createFrameRingBuffer(64 * 1024);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    // Written by the codec into the ring, read back as raw bytes.
    for (const frame of frames) expect(writer.tryWriteFrame(frame)).toBe(true);
    const raw = frames.map(() => reader.tryRead() as Uint8Array);
    // Written and read as frames.
    for (const frame of frames) expect(writer.tryWriteFrame(frame)).toBe(true);
    const decoded = frames.map(() => reader.tryReadFrame());
    writer.close();
    expect(reader.tryReadFrame()).toBe(RING_CLOSED);
    expect(crcCalls).toBe(0);

    frames.forEach((frame, i) => {
      const bytes = raw[i]!;
      const sealed = encodeFrame(frame);
      // Byte-exact: identical to the wire encoding up to the CRC field, which is 0.
      expect(bytes).toEqual(encodeFrame(frame, RING_FRAME_CODEC));
      expect(bytes.subarray(0, -4)).toEqual(sealed.subarray(0, -4));
      expect(new DataView(bytes.buffer).getUint32(bytes.length - 4, true)).toBe(0);
      expect(decoded[i]).toEqual(frame);
    });
  });

  it('a ring channel round trip (fast path and the full-ring slow path) computes no CRC', async () => {
    const { writer, reader } = createChannel('rings', { ringBytes: 8192 });
    const out = openWriter(writer);
    const input = openReader(reader);
    const sent = Array.from({ length: 20 }, (_, i) =>
      RuntimeData.audio(new Float32Array(960).fill(i / 20), 48000, 1),
    );
    let slow = 0;
    const writing = (async () => {
      for (const item of sent) {
        const waiting = out.write(item);
        if (waiting) {
          slow++;
          await waiting;
        }
      }
      out.end();
    })();
    const received: RuntimeData[] = [];
    for (let item = await input.read(); item !== undefined; item = await input.read()) {
      received.push(item);
    }
    await writing;
    expect(received).toEqual(sent);
    expect(slow).toBeGreaterThan(0); // 3.9 KB items in an 8 KiB ring: some waited
    expect(crcCalls).toBe(0);
  });

  it('a ring still reads a frame another writer sealed with a CRC', () => {
    const buffer = createFrameRingBuffer(8192);
    const writer = new FrameRingWriter(buffer);
    expect(writer.tryWrite(encodeFrame(frames[1]!))).toBe(true);
    expect(new FrameRingReader(buffer).tryReadFrame()).toEqual(frames[1]);
  });

  it('the ring keeps every other check of the codec', () => {
    const buffer = createFrameRingBuffer(8192);
    const writer = new FrameRingWriter(buffer);
    const reader = new FrameRingReader(buffer);
    const bytes = encodeFrame(frames[1]!, RING_FRAME_CODEC);
    bytes[3] = 99; // an unknown kind code
    expect(writer.tryWrite(bytes)).toBe(true);
    expect(() => reader.tryReadFrame()).toThrow(/byte 3: unknown kind code 99/);
  });

  it('the wire decoder (gateway, CPython pipes) refuses a ring frame and a wrong CRC', () => {
    const unsealed = encodeFrame(frames[0]!, RING_FRAME_CODEC);
    expect(() => decodeFrame(unsealed)).toThrow(/checksum: CRC-32 mismatch \(stored 0x00000000/);
    const wrong = encodeFrame(frames[0]!);
    wrong[wrong.length - 1] = wrong[wrong.length - 1]! ^ 0x01;
    expect(() => decodeFrame(wrong)).toThrow(/checksum: CRC-32 mismatch/);
  });
});

import { describe, expect, it } from 'vitest';
import { ownedBuffers } from '../../core/buffer-slab.ts';
import { RemoteMediaError, RuntimeData } from '../../core/internal.ts';
import { type ChannelMode, createChannel, openReader, openWriter } from './channel.ts';

// Both kinds run in Node too (SharedArrayBuffer, Atomics.waitAsync, MessageChannel),
// so their contract is checked here; the browser suites run them across workers.
for (const mode of ['rings', 'messages'] as ChannelMode[]) {
  describe(`${mode} channel`, () => {
    const open = () => {
      const { writer, reader } = createChannel(mode, { ringBytes: 4096, window: 4 });
      return { writer: openWriter(writer), reader: openReader(reader) };
    };

    it('delivers every item in order, then the end, with a bounded buffer and a slow reader', async () => {
      const { writer, reader } = open();
      const sent = Array.from({ length: 500 }, (_, i) =>
        i % 3 === 0
          ? RuntimeData.audio(new Float32Array(100).fill(i), 16000, 1)
          : RuntimeData.json(i),
      );
      let waits = 0;
      const writing = (async () => {
        for (const item of sent) {
          const waiting = writer.write(item);
          if (waiting) {
            waits++;
            await waiting;
          }
        }
        writer.end();
      })();
      const received = [];
      for (;;) {
        if (received.length % 50 === 0) await new Promise((r) => setTimeout(r, 1));
        const item = await reader.read();
        if (item === undefined) break;
        received.push(item);
      }
      await writing;
      expect(received).toEqual(sent);
      // The writer had to wait: the channel is bounded, not a growing queue.
      expect(waits).toBeGreaterThan(0);
      expect(await reader.read()).toBeUndefined();
    });

    it('a reader that cancels wakes a waiting writer with an error', async () => {
      const { writer, reader } = open();
      let waiting: Promise<void> | undefined;
      for (let i = 0; i < 1000 && !waiting; i++)
        waiting = writer.write(RuntimeData.text('x'.repeat(200)));
      expect(waiting).toBeInstanceOf(Promise);
      reader.cancel();
      const error = await waiting!.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect((error as RemoteMediaError).kind).toBe('aborted');
    });

    it('a writer that cancels wakes a waiting reader with an error', async () => {
      const { writer, reader } = open();
      const reading = reader.read();
      writer.cancel();
      await expect(reading).rejects.toMatchObject({ kind: 'aborted' });
    });
  });
}

describe('ring channel poll (the page spins a bounded few µs for a reply)', () => {
  const open = () => {
    const { writer, reader } = createChannel('rings', { ringBytes: 4096 });
    return { writer: openWriter(writer), reader: openReader(reader) };
  };

  it('delivers an item that came during the spin to the pending read', async () => {
    const { writer, reader } = open();
    const reading = reader.read();
    writer.write(RuntimeData.json(1));
    expect(reader.poll?.()).toBe(true);
    expect(await reading).toEqual(RuntimeData.json(1));
    // The wait that the read had armed still ends cleanly, and later reads go on.
    writer.write(RuntimeData.json(2));
    expect(await reader.read()).toEqual(RuntimeData.json(2));
  });

  it('a poll that finds nothing leaves the read to its asynchronous wait, then backs off', async () => {
    const { writer, reader } = open();
    const reading = reader.read();
    expect(reader.poll?.()).toBe(false);
    // Backing off: the next poll does not spin at all (and finds nothing either).
    expect(reader.poll?.()).toBe(false);
    writer.write(RuntimeData.json(3));
    expect(await reading).toEqual(RuntimeData.json(3));
    writer.end();
    expect(await reader.read()).toBeUndefined();
  });

  it('takes one read at a time', async () => {
    const { reader } = open();
    const first = reader.read();
    await expect(reader.read()).rejects.toMatchObject({ kind: 'usage' });
    reader.cancel();
    await expect(first).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe("ring channel payloads: owned (default) or slab slices (an island's inputs)", () => {
  const items = Array.from({ length: 12 }, (_, n) =>
    RuntimeData.audio(
      Float32Array.from({ length: 960 }, (_, i) => n * 1000 + i - 0.5),
      48000,
      1,
    ),
  );

  async function through(options?: { payloads: 'owned' | 'slab' }) {
    const ends = createChannel('rings', { ringBytes: 1 << 16 });
    const writer = openWriter(ends.writer);
    const reader = openReader(ends.reader, options);
    for (const item of items) expect(writer.write(item)).toBeUndefined();
    writer.end();
    const got = [];
    for (let item = await reader.read(); item !== undefined; item = await reader.read()) {
      got.push(item as (typeof items)[number]);
    }
    return got;
  }

  it("by default each item owns its samples' buffer (what the embedder may get)", async () => {
    const got = await through();
    expect(got).toEqual(items);
    for (const item of got) expect(item.samples.buffer.byteLength).toBe(item.samples.byteLength);
  });

  it('with payloads "slab" the items are byte-exact slices of a few shared slabs, not a buffer each', async () => {
    const got = await through({ payloads: 'slab' });
    expect(got).toEqual(items);
    const buffers = new Set(got.map((item) => item.samples.buffer));
    // 12 payloads of 3,840 bytes: at most two 64 KiB slabs (one filled, one begun).
    expect(buffers.size).toBeLessThanOrEqual(2);
    for (const item of got) {
      expect(item.samples.buffer.byteLength).toBe(64 << 10);
      expect(item.samples.byteOffset % 8).toBe(0);
    }
    // ownedBuffers (where outputs leave the engine) copies them out again.
    for (const item of got) {
      const owned = ownedBuffers(item) as typeof item;
      expect(owned.samples.buffer.byteLength).toBe(owned.samples.byteLength);
      expect(owned).toEqual(item);
    }
  });
});

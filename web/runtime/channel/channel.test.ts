import { describe, expect, it } from 'vitest';
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

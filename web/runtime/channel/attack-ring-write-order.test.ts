/**
 * A ring channel's writer given a write while an earlier one still waits for room
 * (RuntimeSession.sendInput's callers need not await each input, and the
 * messages channel queues such writes in order). Found by attack: a smaller frame
 * written at once into room the reader had just freed overtook the waiting one,
 * and the reader failed ("channel frame 28 arrived where 26 was expected"); and
 * end() closed the ring under a waiting write, which then failed and its frame
 * was lost. Now such writes queue behind the waiting one and end() closes after
 * them. Node, one thread: the reader frees room between the writes.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeData } from '../../core/internal.ts';
import { createChannel, openReader, openWriter } from './channel.ts';

const item = (n: number, size: number) => RuntimeData.json({ n, pad: 'x'.repeat(size) });
const numberOf = (d: RuntimeData | undefined) =>
  d?.kind === 'json' ? (d.value as { n: number }).n : -1;

function ring() {
  const ends = createChannel('rings', { ringBytes: 4096 });
  return { writer: openWriter(ends.writer), reader: openReader(ends.reader) };
}

describe('ring channel writes while one waits for room', () => {
  it('a small write after a big one that waits does not overtake it', async () => {
    const { writer, reader } = ring();
    let n = 0;
    const pending: Promise<void>[] = [];
    while (writer.write(item(n, 100)) === undefined) n++;
    n++; // that last one waits too
    const big = writer.write(item(n++, 2000));
    expect(big).toBeInstanceOf(Promise);
    pending.push(big!);
    const got = [await reader.read()];
    // Room for this one now, not for the big one: it must still go after it.
    const small = writer.write(item(n++, 10));
    if (small) pending.push(small);
    while (got.length < n) got.push(await reader.read());
    await Promise.all(pending);
    expect(got.map(numberOf)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('end() while a write waits: the frame arrives, then the end', async () => {
    const { writer, reader } = ring();
    let n = 0;
    while (writer.write(item(n, 100)) === undefined) n++;
    const waiting = writer.write(item(++n, 1500));
    n++;
    writer.end();
    const got = [];
    for (let d = await reader.read(); d !== undefined; d = await reader.read()) got.push(d);
    await waiting;
    expect(got.map(numberOf)).toEqual(Array.from({ length: n }, (_, i) => i));
    await expect(Promise.resolve().then(() => writer.write(item(99, 1)))).rejects.toMatchObject({
      kind: 'session_closed',
    });
  });

  it('a burst of unawaited writes of random sizes through a 4 KiB ring: every item once, in order', async () => {
    const { writer, reader } = ring();
    const sizes = Array.from(
      { length: 400 },
      (_, i) => (Math.imul(i + 1, 0x9e3779b1) >>> 0) % 1800,
    );
    const pending: Promise<void>[] = [];
    const got: number[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const w = writer.write(item(i, sizes[i]!));
      if (w) pending.push(w);
      // The reader takes one now and then, freeing room between writes.
      if (i % 3 === 2) got.push(numberOf(await reader.read()));
    }
    writer.end();
    for (let d = await reader.read(); d !== undefined; d = await reader.read())
      got.push(numberOf(d));
    await Promise.all(pending);
    expect(got).toEqual(sizes.map((_, i) => i));
  });
});

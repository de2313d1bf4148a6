/**
 * The wake loop (wake-loop.ts) in a real worker: a reader asleep on its thread's
 * doorbell is woken by the page's writes, close and cancel; the worker's other
 * messages are served while frames stream; an idle loop sleeps asynchronously and
 * the doorbell wakes it too, and idle it wakes only for its 1 s safety net (a
 * count); a worker terminated asleep leaves a count that the next write heals;
 * two channels on one doorbell are both served. No
 * timing is asserted: the page waits for conditions (the worker asleep, a count).
 */
import { describe, expect, it } from 'vitest';
import { RuntimeData } from '../../core/internal.ts';
import { Doorbell } from '../ring/doorbell.ts';
import { type ChannelEndpoint, createChannel, openReader, openWriter } from './channel.ts';
import { ringDoorbellFor } from './ring-channel.ts';

interface Counts {
  slices: number;
  futexSleeps: number;
  asyncSleeps: number;
  deliveries: number;
}

let echoes = 0;

async function startEcho(pairs: number) {
  const worker = new Worker(new URL('./wake-loop-test.worker.ts', import.meta.url), {
    type: 'module',
  });
  const messages: unknown[] = [];
  let heard: () => void = () => {};
  worker.onmessage = (event) => {
    messages.push(event.data);
    heard();
  };
  /** The first message (from now on, or already heard) that `match` accepts. */
  const message = async (match: (m: unknown) => boolean): Promise<unknown> => {
    for (;;) {
      const at = messages.findIndex(match);
      if (at >= 0) return messages.splice(at, 1)[0];
      await new Promise<void>((resolve) => (heard = resolve));
    }
  };
  // A doorbell of its own per worker: a terminated worker may leave its count behind.
  const key = `wake-loop-test-${++echoes}`;
  const inputs = Array.from({ length: pairs }, () =>
    ringDoorbellFor(createChannel('rings', { ringBytes: 1 << 16 }), key),
  );
  const outputs = Array.from({ length: pairs }, () =>
    createChannel('rings', { ringBytes: 1 << 16 }),
  );
  worker.postMessage({
    inputs: inputs.map((c) => c.reader),
    outputs: outputs.map((c) => c.writer),
  });
  await message((m) => m === 'open');
  const doorbell = (inputs[0]!.writer as Extract<ChannelEndpoint, { kind: 'ring' }>).doorbell!;
  const bell = new Doorbell(doorbell);
  return {
    worker,
    bell,
    message,
    writers: inputs.map((c) => openWriter(c.writer)),
    readers: outputs.map((c) => openReader(c.reader)),
    /** Resolves once the worker sleeps on its doorbell (futex or async). */
    async asleep() {
      while (bell.sleepers() === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    },
    async counts(): Promise<Counts> {
      worker.postMessage('counts');
      return (
        (await message((m) => typeof m === 'object' && m !== null && 'counts' in m)) as {
          counts: Counts;
        }
      ).counts;
    },
  };
}

const block = (i: number) => RuntimeData.audio(new Float32Array(960).fill(i / 100), 48000, 1);

describe('wake loop: ring readers of a worker asleep on its doorbell', () => {
  it('a write wakes the worker asleep on the doorbell, frame after frame (a futex sleep while streaming)', async () => {
    const echo = await startEcho(1);
    try {
      for (let i = 0; i < 20; i++) {
        await echo.asleep();
        echo.writers[0]!.write(block(i));
        expect(await echo.readers[0]!.read()).toEqual(block(i));
      }
      const counts = await echo.counts();
      expect(counts.deliveries).toBeGreaterThanOrEqual(20);
      expect(counts.futexSleeps).toBeGreaterThan(0);
    } finally {
      echo.worker.terminate();
    }
  });

  it("serves the worker's messages while frames stream, and sleeps asynchronously once idle", async () => {
    const echo = await startEcho(1);
    try {
      echo.writers[0]!.write(block(1));
      expect(await echo.readers[0]!.read()).toEqual(block(1));
      // The loop now blocks in slices with a read pending: a message still gets through.
      const streaming = await echo.counts();
      expect(streaming.deliveries).toBe(1);
      // With no frame for a while the loop sleeps with Atomics.waitAsync ...
      let counts = streaming;
      while (counts.asyncSleeps === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        counts = await echo.counts();
      }
      // ... and the doorbell wakes that sleep too.
      await echo.asleep();
      echo.writers[0]!.write(block(2));
      expect(await echo.readers[0]!.read()).toEqual(block(2));
    } finally {
      echo.worker.terminate();
    }
  });

  it('end() wakes a sleeping reader, which then sees the end of the stream', async () => {
    const echo = await startEcho(1);
    try {
      echo.writers[0]!.write(block(1));
      expect(await echo.readers[0]!.read()).toEqual(block(1));
      await echo.asleep();
      echo.writers[0]!.end();
      expect(await echo.message((m) => (m as { ended?: number }).ended === 0)).toEqual({
        ended: 0,
      });
      expect(await echo.readers[0]!.read()).toBeUndefined();
    } finally {
      echo.worker.terminate();
    }
  });

  it("cancel() wakes a sleeping reader with an 'aborted' error", async () => {
    const echo = await startEcho(1);
    try {
      await echo.asleep();
      echo.writers[0]!.cancel();
      expect(await echo.message((m) => (m as { failed?: number }).failed === 0)).toEqual({
        failed: 0,
        kind: 'aborted',
      });
    } finally {
      echo.worker.terminate();
    }
  });

  it('an idle loop wakes only for its safety net: at most 4 wake-ups in 2 s, none delivering', async () => {
    const echo = await startEcho(1);
    try {
      echo.writers[0]!.write(block(1));
      expect(await echo.readers[0]!.read()).toEqual(block(1));
      let before = await echo.counts();
      while (before.asyncSleeps === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        before = await echo.counts();
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const after = await echo.counts();
      const wakeUps =
        after.slices +
        after.futexSleeps +
        after.asyncSleeps -
        (before.slices + before.futexSleeps + before.asyncSleeps);
      // The 1 s safety wake-ups of the async sleep (2-3 in 2 s); a loop that went
      // back to streaming after one would add its 2 ms slices (25 per 50 ms).
      expect(wakeUps).toBeLessThanOrEqual(4);
      expect(after.deliveries).toBe(before.deliveries);
    } finally {
      echo.worker.terminate();
    }
  });

  it('a worker terminated asleep leaves its count on the doorbell; the next write heals it', async () => {
    const echo = await startEcho(1);
    echo.writers[0]!.write(block(1));
    expect(await echo.readers[0]!.read()).toEqual(block(1));
    // Idle: the loop's async sleep (1 s), in which a terminated worker stays counted.
    while ((await echo.counts()).asyncSleeps === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await echo.asleep();
    echo.worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(echo.bell.sleepers()).toBe(1);
    // A write rings, its notify wakes nobody, and the writer resets the count.
    echo.writers[0]!.write(block(2));
    expect(echo.bell.sleepers()).toBe(0);
  });

  it('two channels on one doorbell (two sessions in one worker) are both served', async () => {
    const echo = await startEcho(2);
    try {
      for (let i = 0; i < 20; i++) {
        const lane = i % 3 === 0 ? 0 : 1;
        await echo.asleep();
        echo.writers[lane]!.write(block(i));
        expect(await echo.readers[lane]!.read()).toEqual(block(i));
      }
      for (const writer of echo.writers) writer.end();
      await echo.message((m) => (m as { ended?: number }).ended === 0);
      await echo.message((m) => (m as { ended?: number }).ended === 1);
    } finally {
      echo.worker.terminate();
    }
  });
});

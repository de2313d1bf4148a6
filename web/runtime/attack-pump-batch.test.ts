/**
 * Attack on the island pump's batches (island.ts: up to PUMP_BATCH inputs moved
 * into the node with no await each) and on island inputs decoded into slab slices
 * (RING_SLAB_CODEC), in Node with real ring channels (the code the pipeline worker
 * runs). A node that keeps every input it was given sees each one unchanged after
 * hundreds of later blocks (slab slices are never handed out twice); outputs read
 * back from the island's channel own their buffers; an out-of-band interrupt and
 * its in-band control arriving among a backlog moved in batches drop exactly the
 * cancelled turn's inputs, keep order and duplicate nothing; the end of input
 * and an abort arriving mid-batch lose or repeat nothing before them; a node
 * slower than its feed holds the feed back (the writer waits), so the items
 * between the writer and the node stay bounded.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AudioData, defineNode, PipelineRunner, RuntimeData } from '../core/internal.ts';
import { createChannel, openReader, openWriter } from './channel/channel.ts';
import { RunningIsland } from './island.ts';

const FRAME = 960;
function block(n: number): AudioData {
  return RuntimeData.audio(
    Float32Array.from({ length: FRAME }, (_, i) => n * 1000 + i),
    48_000,
    1,
    n * 20_000,
  );
}
/** Which block an item is (its first sample says). */
const numberOf = (item: RuntimeData) => Math.round((item as AudioData).samples[0]! / 1000);

interface Probe {
  seen: number[];
  kept: AudioData[];
  slabViews: number;
  /** Calls in progress at once (must stay 1) and items given to the node but not yet returned. */
  overlapping: number;
  maxOverlap: number;
  processed: number;
  slow: boolean;
}
let probe: Probe;

const Keeper = defineNode({
  type: 'Keeper',
  params: z.object({}),
  create: () => ({
    async process(input) {
      probe.overlapping++;
      probe.maxOverlap = Math.max(probe.maxOverlap, probe.overlapping);
      if (input.kind === 'audio') {
        probe.seen.push(numberOf(input));
        probe.kept.push(input);
        if (input.samples.buffer.byteLength !== input.samples.byteLength) probe.slabViews++;
      }
      if (probe.slow) await new Promise((resolve) => setImmediate(resolve));
      probe.overlapping--;
      probe.processed++;
      return input;
    },
  }),
});

function fresh(slow = false): void {
  probe = { seen: [], kept: [], slabViews: 0, overlapping: 0, maxOverlap: 0, processed: 0, slow };
}

const manifest = (bargeIn = false) => ({
  version: 'v1' as const,
  metadata: { name: 'keeper' },
  nodes: [{ id: 'k', node_type: 'Keeper', params: {} }],
  connections: [],
  ...(bargeIn ? { bargeIn: { to: ['k'] } } : {}),
});

async function start(bargeIn = false, ringBytes = 1 << 20) {
  const input = createChannel('rings', { ringBytes });
  const output = createChannel('rings', { ringBytes: 1 << 20 });
  const writer = openWriter(input.writer);
  const island = await RunningIsland.start(new PipelineRunner({ nodes: [Keeper] }), {
    manifest: manifest(bargeIn),
    inputs: [{ endpoint: input.reader, sources: ['k'] }],
    outputs: [{ endpoint: output.writer, sink: 'k' }],
  });
  const reader = openReader(output.reader);
  const drain = (async () => {
    const got: RuntimeData[] = [];
    for (let item = await reader.read(); item !== undefined; item = await reader.read()) {
      got.push(item);
    }
    return got;
  })();
  drain.catch(() => {});
  return { writer, island, drain };
}

async function feed(writer: ReturnType<typeof openWriter>, items: RuntimeData[]): Promise<void> {
  for (const item of items) {
    const waiting = writer.write(item);
    if (waiting) await waiting;
  }
}

describe('island pump batches and slab inputs, attacked', () => {
  it('a node that keeps every input sees each unchanged after 400 later blocks; outputs own their buffers', async () => {
    fresh(true);
    const { writer, island, drain } = await start();
    await feed(
      writer,
      Array.from({ length: 400 }, (_, n) => block(n)),
    );
    writer.end();
    const got = await drain;
    await island.done;
    expect(probe.seen).toEqual(Array.from({ length: 400 }, (_, n) => n));
    // The inputs were slab slices (so this tests the slabs), and none changed.
    expect(probe.slabViews).toBe(400);
    probe.kept.forEach((kept, n) => expect(kept).toEqual(block(n)));
    expect(got.map(numberOf)).toEqual(probe.seen);
    for (const item of got) {
      const samples = (item as AudioData).samples;
      expect(samples.buffer.byteLength).toBe(samples.byteLength);
    }
    expect(probe.maxOverlap).toBe(1);
  });

  it('an interrupt out of band and its control in band, among a backlog: the cancelled turn dropped, the rest once each, in order', async () => {
    const cases = [0, 3, 7, 8, 9, 15, 16, 17].flatMap((at) =>
      [0, 1, 4, 8, 9].filter((pre) => pre <= at).map((pre) => [at, pre] as const),
    );
    for (const [at, pre] of cases) {
      fresh(true);
      const { writer, island, drain } = await start(true);
      const blocks = Array.from({ length: 40 }, (_, n) => block(n));
      const stamp = 777_000 + at;
      // The cancelled turn (blocks before `at`) goes in first, as a backlog.
      await feed(writer, blocks.slice(0, at));
      // Out of band, once the node took `pre` of them: the rest sit in its inbox
      // and the input ring, some moved in as a batch.
      while (probe.seen.length < pre) await new Promise((resolve) => setImmediate(resolve));
      const seenAtInterrupt = probe.seen.length;
      const doneAtInterrupt = probe.processed;
      island.interrupt(stamp);
      // Then the in-band control (same stamp: it does not act again) and the next turn.
      await feed(writer, [
        { kind: 'control', signal: 'interrupt', timestampUs: stamp },
        ...blocks.slice(at),
      ]);
      writer.end();
      const got = await drain;
      await island.done;
      const taken = probe.seen;
      const context = `control at ${at}, interrupt after ${pre}: ${taken.join(',')}`;
      // Increasing, no duplicate; every block of the next turn arrives.
      expect(taken, context).toEqual([...taken].sort((a, b) => a - b));
      expect(new Set(taken).size, context).toBe(taken.length);
      expect(
        taken.filter((n) => n >= at),
        context,
      ).toEqual(Array.from({ length: 40 - at }, (_, i) => at + i));
      // Of the cancelled turn: exactly what the node took before the interrupt.
      expect(
        taken.filter((n) => n < at),
        context,
      ).toEqual(Array.from({ length: seenAtInterrupt }, (_, i) => i));
      // Outputs: the calls that ended before the interrupt (one in progress then is
      // dropped with its output), then the next turn.
      expect(got.filter((d) => d.kind === 'audio').map(numberOf), context).toEqual([
        ...Array.from({ length: doneAtInterrupt }, (_, i) => i),
        ...Array.from({ length: 40 - at }, (_, i) => at + i),
      ]);
    }
  });

  it('the end of input right behind a backlog: every item once, in order, for every backlog length', async () => {
    for (const count of [1, 7, 8, 9, 15, 16, 17, 33]) {
      fresh();
      const { writer, island, drain } = await start();
      await feed(
        writer,
        Array.from({ length: count }, (_, n) => block(n)),
      );
      writer.end();
      const got = await drain;
      await island.done;
      expect(probe.seen).toEqual(Array.from({ length: count }, (_, n) => n));
      expect(got.map(numberOf)).toEqual(probe.seen);
    }
  });

  it('an abort mid-batch: the node takes an in-order prefix, nothing twice, and the island ends aborted', async () => {
    for (const after of [0, 1, 5, 8, 12]) {
      fresh(true);
      const { writer, island } = await start();
      await feed(
        writer,
        Array.from({ length: 30 }, (_, n) => block(n)),
      );
      while (probe.processed < after) await new Promise((resolve) => setImmediate(resolve));
      island.abort(new Error('stop'));
      await expect(island.done).rejects.toMatchObject({ kind: 'aborted' });
      const taken = probe.seen;
      expect(taken).toEqual(Array.from({ length: taken.length }, (_, i) => i));
      expect(taken.length).toBeLessThan(30);
    }
  });

  it('a node slower than its feed holds the writer back: items in flight stay bounded', async () => {
    fresh(true);
    // A 64 KiB ring holds about 16 blocks of 3,840 bytes; the session's inbox 32; a batch 8.
    const { writer, island, drain } = await start(false, 64 << 10);
    let written = 0;
    let maxInFlight = 0;
    for (let n = 0; n < 600; n++) {
      const waiting = writer.write(block(n));
      written++;
      maxInFlight = Math.max(maxInFlight, written - probe.processed);
      if (waiting) await waiting;
    }
    writer.end();
    await drain;
    await island.done;
    expect(probe.seen).toEqual(Array.from({ length: 600 }, (_, n) => n));
    // Ring (17 records of 3,880 bytes in 64 KiB) + inbox (32) + one batch (8) + the
    // call in progress and the write in hand: without the bound it would be ~600.
    expect(maxInFlight).toBeLessThanOrEqual(17 + 32 + 8 + 2);
  });
});

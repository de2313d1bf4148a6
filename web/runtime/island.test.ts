/**
 * An island's pump (island.ts), in Node with real ring channels on one thread: a
 * backlog already in the input channel goes into the node PUMP_BATCH items at a
 * time with no await each, so the node takes them back to back (one clock read
 * per call: PipelineSession.runNode), every item arriving in order and byte-exact;
 * and the ring reader's tryRead, which the pump drains with.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineNode, PipelineRunner, RuntimeData } from '../core/internal.ts';
import { createChannel, NOT_YET, openReader, openWriter } from './channel/channel.ts';
import { RunningIsland } from './island.ts';

/** Clock reads so far (performance.now spied on), as each call of Probe saw them. */
let reads = 0;
let readsAtCalls: number[] = [];
const Probe = defineNode({
  type: 'Probe',
  params: z.object({}),
  create: () => ({
    process(input) {
      readsAtCalls.push(reads);
      return input;
    },
  }),
});

afterEach(() => vi.restoreAllMocks());

describe('RunningIsland pump', () => {
  it('moves a backlog into the node in batches: its calls run back to back, one clock read each', async () => {
    const input = createChannel('rings');
    const output = createChannel('rings');
    const items = Array.from({ length: 40 }, (_, n) =>
      RuntimeData.audio(
        Float32Array.from({ length: 960 }, (_, i) => n + i / 1024),
        48000,
        1,
      ),
    );
    const writer = openWriter(input.writer);
    for (const item of items) expect(writer.write(item)).toBeUndefined();
    writer.end();
    const now = performance.now.bind(performance);
    vi.spyOn(performance, 'now').mockImplementation(() => {
      reads++;
      return now();
    });
    reads = 0;
    readsAtCalls = [];
    const island = await RunningIsland.start(new PipelineRunner({ nodes: [Probe] }), {
      manifest: {
        version: 'v1',
        metadata: { name: 'probe' },
        nodes: [{ id: 'p', node_type: 'Probe', params: {} }],
        connections: [],
      },
      inputs: [{ endpoint: input.reader, sources: ['p'] }],
      outputs: [{ endpoint: output.writer, sink: 'p' }],
    });
    const reader = openReader(output.reader);
    const got = [];
    for (let item = await reader.read(); item !== undefined; item = await reader.read()) {
      got.push(item);
    }
    await island.done;
    expect(got).toEqual(items);
    const between = readsAtCalls.slice(1).map((r, i) => r - readsAtCalls[i]!);
    // Within a batch one read between calls; where the node waited for the next
    // batch, two. Item by item (a pump that awaits each) every gap would be two.
    // 40 items in batches of PUMP_BATCH (8): of 39 gaps, 5 are waits. Item by item
    // (a pump that awaits each, or PUMP_BATCH 1) every gap is two reads.
    expect(between.filter((gap) => gap === 1).length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...between)).toBeLessThanOrEqual(2);
  });
});

describe('ring channel tryRead', () => {
  it('takes what is there with no promise, says NOT_YET when empty, undefined at the end', async () => {
    const ends = createChannel('rings', { ringBytes: 4096 });
    const writer = openWriter(ends.writer);
    const reader = openReader(ends.reader, { payloads: 'slab' });
    expect(reader.tryRead?.()).toBe(NOT_YET);
    writer.write(RuntimeData.json(1));
    writer.write(RuntimeData.text('two'));
    expect(reader.tryRead?.()).toEqual(RuntimeData.json(1));
    expect(reader.tryRead?.()).toEqual(RuntimeData.text('two'));
    expect(reader.tryRead?.()).toBe(NOT_YET);
    // Not while a read is pending: one read at a time.
    const pending = reader.read();
    expect(() => reader.tryRead?.()).toThrow(/one read at a time/);
    writer.write(RuntimeData.json(3));
    expect(await pending).toEqual(RuntimeData.json(3));
    writer.end();
    expect(reader.tryRead?.()).toBeUndefined();
  });
});

/**
 * The island pump's batches in real Chromium, through the runtime: a Gain in the
 * pipeline worker (its inputs decoded into slab slices, moved into it up to
 * PUMP_BATCH at a time) fed a burst of 60 blocks with no await between them, an
 * interrupt given as input in the middle of the burst (bargeIn to the Gain), and
 * close right behind the burst. What reaches the embedder: each output owns its
 * buffer (no slab view), outputs in order with none twice, every block after the
 * interrupt there, of those before it an in-order prefix; with no interrupt,
 * every block. Both channel kinds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type AudioData, type Manifest, RuntimeData } from '../core/internal.ts';
import type { ChannelMode } from './channel/channel.ts';
import { createRuntime } from './runtime.ts';

const FRAME = 960;
const BLOCKS = 60;
/** Block n: every sample (n + 1) / 128 (exact in float32, within [-1, 1], kept by a 0 dB Gain). */
const blockOf = (n: number) =>
  RuntimeData.audio(new Float32Array(FRAME).fill((n + 1) / 128), 48_000, 1, n * 20_000);

function manifest(bargeIn: boolean): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'pump batch' },
    nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: 0 } }],
    connections: [],
    ...(bargeIn ? { bargeIn: { to: ['gain'] } } : {}),
  } as Manifest;
}

for (const channels of ['rings', 'messages'] as ChannelMode[]) {
  describe(`pump batches through the pipeline worker (${channels})`, async () => {
    const runtime = await createRuntime({ channels });
    afterAll(() => runtime.dispose());

    async function burst(interruptAt: number | undefined) {
      const session = await runtime.stream(manifest(interruptAt !== undefined));
      const sent: Promise<void>[] = [];
      for (let n = 0; n < BLOCKS; n++) {
        if (n === interruptAt) {
          sent.push(session.sendInput({ kind: 'control', signal: 'interrupt', timestampUs: 1 }));
        }
        sent.push(session.sendInput(blockOf(n)));
      }
      const closing = Promise.all(sent).then(() => session.close());
      const outputs: AudioData[] = [];
      for (let out = await session.recvOutput(); out; out = await session.recvOutput()) {
        if (out.data.kind === 'audio') outputs.push(out.data);
      }
      await closing;
      for (const output of outputs) {
        expect(output.samples.buffer.byteLength).toBe(output.samples.byteLength);
        expect(output.samples.every((s) => s === output.samples[0])).toBe(true);
      }
      return outputs.map((o) => o.samples[0]! * 128 - 1);
    }

    it('close right behind a burst: every block once, in order, each owning its buffer', async () => {
      expect(await burst(undefined)).toEqual(Array.from({ length: BLOCKS }, (_, n) => n));
    });

    for (const at of [5, 8, 17, 31]) {
      it(`an interrupt in the burst before block ${at}: the rest once each, in order; before it a prefix`, async () => {
        const got = await burst(at);
        expect(got).toEqual([...got].sort((a, b) => a - b));
        expect(new Set(got).size).toBe(got.length);
        expect(got.filter((n) => n >= at)).toEqual(
          Array.from({ length: BLOCKS - at }, (_, i) => at + i),
        );
        const before = got.filter((n) => n < at);
        expect(before).toEqual(Array.from({ length: before.length }, (_, i) => i));
      });
    }
  });
}

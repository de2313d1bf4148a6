/**
 * Gain's and Resample's outputs are views into shared 64 KiB slabs (web/core/buffer-slab.ts).
 * Where such an output leaves the runtime for the embedder (run()/stream() results),
 * whatever the embedder does next with it — clone it to a worker, transfer its buffer
 * to one — must cost that output only and touch no other frame. Here, in real
 * Chromium, for every placement (the node on the page, in the pipeline worker, behind
 * a worker island) and both channel kinds, and for the core's PipelineRunner run on
 * the page without the runtime (whose outputs were slab views: a clone of a 3840-byte
 * output carried 65536 bytes, fixed by ownedBuffers at the session's output queue): the outputs' buffers are their own (the
 * byteLength a clone carries is the output's, not 64 KiB), and transferring one
 * output's buffer leaves the other outputs whole and unchanged.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type AudioData, type Manifest, PipelineRunner, RuntimeData } from '../core/internal.ts';
import type { ChannelMode } from './channel/channel.ts';
import { createRuntime } from './runtime.ts';

const RATE = 48_000;
/** 20 ms frames: each output is a few KiB, so about a dozen share a slab. */
const FRAME = 960;

function frameOf(n: number): AudioData {
  // Integers over 64: a gain of 0 dB and the resampler's DC path keep them recognisable.
  return RuntimeData.audio(
    Float32Array.from({ length: FRAME }, (_, i) => ((n * 131 + i) % 977) / 1024),
    RATE,
    1,
  );
}

const manifests: Record<string, Manifest> = {
  'Gain on the page': {
    version: 'v1',
    metadata: { name: 'gain on the page' },
    nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 }, executor: 'main' }],
    connections: [],
  },
  'Gain in the worker': {
    version: 'v1',
    metadata: { name: 'gain in the worker' },
    nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 } }],
    connections: [],
  },
  'Resample on the page after a worker Gain': {
    version: 'v1',
    metadata: { name: 'resample on the page' },
    nodes: [
      { id: 'gain', node_type: 'Gain', params: { gain_db: -6 } },
      { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 }, executor: 'main' },
    ],
    connections: [{ from: 'gain', to: 'resample' }],
  },
  'Resample in the worker': {
    version: 'v1',
    metadata: { name: 'resample in the worker' },
    nodes: [{ id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } }],
    connections: [],
  },
};

/** Posts `value` through a fresh MessageChannel (a structured clone) and returns what arrived. */
function posted<T>(value: T, transfer: Transferable[] = []): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<T>((resolve) => {
    port2.onmessage = (event) => {
      port1.close();
      port2.close();
      resolve(event.data as T);
    };
    port1.postMessage(value, transfer);
  });
}

type Run = (manifest: Manifest, inputs: AudioData[]) => Promise<{ data: unknown }[]>;

/** The checks, for outputs of `manifest` made by `run`. */
async function expectOwnBuffers(run: Run, manifest: Manifest): Promise<void> {
  const inputs = Array.from({ length: 24 }, (_, n) => frameOf(n));
  const outputs = (await run(manifest, inputs)).map((o) => o.data as AudioData);
  expect(outputs.length).toBeGreaterThan(8);
  const copies = outputs.map((o) => o.samples.slice());
  // (b) What a clone of one output carries: its own samples, not the slab.
  for (const output of outputs) {
    expect(output.samples.buffer.byteLength).toBe(output.samples.byteLength);
  }
  const cloned = await posted(outputs[1]!);
  expect(cloned.samples.buffer.byteLength).toBe(outputs[1]!.samples.byteLength);
  expect(cloned.samples).toEqual(copies[1]);
  // (a) Two outputs go different ways: one transferred, one cloned; the rest stay.
  const [moved, other] = await Promise.all([
    posted(outputs[2]!, [outputs[2]!.samples.buffer]),
    posted(outputs[3]!),
  ]);
  expect(moved.samples).toEqual(copies[2]);
  expect(other.samples).toEqual(copies[3]);
  outputs.forEach((output, i) => {
    if (i === 2) return; // the one given away
    expect(output.samples.length, `output ${i} after output 2 was transferred`).toBe(
      copies[i]!.length,
    );
    expect(output.samples).toEqual(copies[i]);
  });
}

for (const channels of ['rings', 'messages'] as ChannelMode[]) {
  describe(`slab-backed outputs leaving the runtime (${channels})`, async () => {
    const runtime = await createRuntime({ channels });
    afterAll(() => runtime.dispose());
    for (const [placement, manifest] of Object.entries(manifests)) {
      it(`${placement}: each output owns its buffer; cloning or transferring one touches no other`, () =>
        expectOwnBuffers((m, inputs) => runtime.run(m, inputs), manifest));
    }
  });
}

describe('slab-backed outputs leaving the core PipelineRunner on the page', () => {
  const runner = new PipelineRunner();
  for (const [placement, manifest] of Object.entries(manifests)) {
    it(`${placement} (every node on this thread): each output owns its buffer`, () =>
      expectOwnBuffers((m, inputs) => runner.run(m, inputs), manifest));
  }
});

/**
 * Runtime benchmark page: the same manifest through createRuntime with ring
 * channels and with postMessage channels, page -> worker island -> page.
 */
import { createRuntime, type Manifest, RuntimeData } from '../../web/index.ts';

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'gain in the worker' },
  nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -3 } }],
  connections: [],
};

const RATE = 48000;
const BLOCK = 960; // 20 ms
const BLOCKS = 3000; // 60 s of audio per run
const ROUND_TRIPS = 400;

async function runRuntimeBench() {
  const blocks = Array.from({ length: BLOCKS }, (_, i) =>
    RuntimeData.audio(new Float32Array(BLOCK).fill(Math.sin(i)), RATE, 1),
  );
  const results: Record<string, { runMs: number[]; roundTripMs: number[] }> = {};
  for (const channels of ['messages', 'rings'] as const) {
    const runtime = await createRuntime({ channels });
    await runtime.run(manifest, blocks.slice(0, 200)); // warm up
    const runMs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const started = performance.now();
      const outputs = await runtime.run(manifest, blocks);
      runMs.push(performance.now() - started);
      if (outputs.length !== BLOCKS) throw new Error(`lost outputs: ${outputs.length}`);
    }
    const roundTripMs: number[] = [];
    const session = await runtime.stream(manifest);
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const started = performance.now();
      await session.sendInput(blocks[i]!);
      await session.recvOutput();
      roundTripMs.push(performance.now() - started);
    }
    await session.close();
    runtime.dispose();
    results[channels] = { runMs, roundTripMs };
  }
  return { crossOriginIsolated, results, audioSeconds: (BLOCKS * BLOCK) / RATE };
}

(window as unknown as { runRuntimeBench: typeof runRuntimeBench }).runRuntimeBench =
  runRuntimeBench;

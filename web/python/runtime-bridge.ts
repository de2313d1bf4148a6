/**
 * The JS module `_remotemedia_js` that the Python package's `remotemedia_runtime`
 * calls from inside Pyodide: the TypeScript core beside the interpreter, reached
 * with frame-codec bytes so that Python and JS share no object model.
 */
import { decodeFrame, encodeFrame, type PipelineRunner } from '../core/index.ts';

export const RUNTIME_VERSION = '0.1.0';

export interface RuntimeBridge {
  version(): string;
  /** Synchronous, so that Pipeline.run's check costs no trip through the event loop. */
  nodeTypes(): string[];
  execute(manifestJson: string, frames: Uint8Array[]): Promise<Uint8Array[]>;
}

export function createRuntimeBridge(runner: PipelineRunner): RuntimeBridge {
  return {
    version: () => RUNTIME_VERSION,
    nodeTypes: () => runner.registry.names(),
    async execute(manifestJson, frames) {
      const inputs = Array.from(frames, (bytes) => decodeFrame(bytes).data);
      const outputs = await runner.executeBatch(manifestJson, inputs);
      return outputs.map((data, sequence) => encodeFrame({ sequence, data }));
    },
  };
}

/**
 * The JS module `_remotemedia_js` that the Python package's `remotemedia_runtime`
 * calls from inside Pyodide: the TypeScript core beside the interpreter, reached
 * with frame-codec bytes so that Python and JS share no object model.
 */
import {
  decodeFrame,
  encodeFrame,
  type JsonData,
  type JsonValue,
  type PipelineRunner,
  RuntimeData,
} from '../core/internal.ts';

export const RUNTIME_VERSION = '0.1.0';

export interface RuntimeBridge {
  version(): string;
  /** Synchronous, so that Pipeline.run's check costs no trip through the event loop. */
  nodeTypes(): string[];
  /**
   * The outputs at once for pipelines of synchronous nodes (no await on the Python
   * side, which costs a trip through Pyodide's event loop), else a promise of them.
   */
  execute(manifestJson: string, frames: Uint8Array[]): Uint8Array[] | Promise<Uint8Array[]>;
  /**
   * The same for plain values, as JSON text both ways (what the original FFI did
   * with Python values): inputs are json items; the outputs come back as one JSON
   * array when they are all json, else as frames.
   */
  executeJson(
    manifestJson: string,
    inputsJson: string,
  ): string | Uint8Array[] | Promise<string | Uint8Array[]>;
}

export function createRuntimeBridge(runner: PipelineRunner): RuntimeBridge {
  return {
    version: () => RUNTIME_VERSION,
    nodeTypes: () => runner.registry.names(),
    execute(manifestJson, frames) {
      const inputs = Array.from(frames, (bytes) => decodeFrame(bytes).data);
      return run(manifestJson, inputs, encodeAll);
    },
    executeJson(manifestJson, inputsJson) {
      const values = JSON.parse(inputsJson) as JsonValue[];
      return run(
        manifestJson,
        values.map((value) => RuntimeData.json(value)),
        (outputs) =>
          outputs.every((o) => o.kind === 'json')
            ? JSON.stringify(outputs.map((o) => (o as JsonData).value))
            : encodeAll(outputs),
      );
    },
  };

  /** At once for pipelines of synchronous nodes, else through the streaming executor. */
  function run<T>(
    manifestJson: string,
    inputs: RuntimeData[],
    answer: (outputs: RuntimeData[]) => T,
  ) {
    if (runner.canExecuteSync(manifestJson))
      return answer(runner.executeBatchSync(manifestJson, inputs));
    return runner.executeBatch(manifestJson, inputs).then(answer);
  }
}

function encodeAll(outputs: RuntimeData[]): Uint8Array[] {
  return outputs.map((data, sequence) => encodeFrame({ sequence, data }));
}

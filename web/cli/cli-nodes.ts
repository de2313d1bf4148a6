/**
 * The node types `remotemedia` runs beyond the core's built-ins: SileroVAD with
 * its Node assets, and PythonNode under CPython through the gateway's node runner
 * (the same PythonPool, so a PythonNode behaves alike on the command line and on a
 * gateway). No process starts until a PythonNode does.
 */
import type { AnyNodeDefinition } from '../core/internal.ts';
import { nodeSileroAssets } from '../nodes/silero-assets-node.ts';
import { createSileroVad } from '../nodes/silero-vad.ts';
import { PythonPool } from '../../remote-gateway/python-process.ts';

export interface CliNodes {
  nodes: AnyNodeDefinition[];
  /** Ends the Python processes still running (a failed session's). */
  close(): void;
}

export function cliNodes(options: { python: string }): CliNodes {
  // No spares: a command runs once, so a process is started when a node needs it.
  const pool = new PythonPool({ python: options.python, spares: 0 });
  return {
    nodes: [createSileroVad(nodeSileroAssets), pool.nodeDefinition()],
    close: () => pool.close(),
  };
}

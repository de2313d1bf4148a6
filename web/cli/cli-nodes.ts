/**
 * The node types `remotemedia` runs beyond the core's built-ins: SileroVAD with
 * its Node assets, and PythonNode under CPython through the gateway's node runner
 * (the same PythonPool, so a PythonNode behaves alike on the command line and on a
 * gateway) with the speech nodes of that runner, and the node modules given with
 * --nodes. No process starts until a
 * PythonNode does.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyNodeDefinition } from '../core/internal.ts';
import { importNodeModule } from '../core/node-module.ts';
import { SPEECH_NODE_TYPES } from '../core/nodes/speech/speech-nodes.ts';
import { nodeSileroAssets } from '../nodes/silero-assets-node.ts';
import { createSileroVad } from '../nodes/silero-vad.ts';
import { PythonPool } from '../../remote-gateway/python-process.ts';

export interface CliNodes {
  nodes: AnyNodeDefinition[];
  /** Ends the Python processes still running (a failed session's). */
  close(): void;
}

/**
 * The node set of one command: the CLI's own nodes and those of each node module
 * (`--nodes`, a path or a URL). A module that does not load, or exports no node
 * definitions, is a `usage` error naming it.
 */
export async function cliNodes(options: {
  python: string;
  /** Folders of the user's Python modules (--python-path). */
  pythonPath?: readonly string[];
  nodeModules?: readonly string[];
}): Promise<CliNodes> {
  const custom = await Promise.all(
    (options.nodeModules ?? []).map((module) => importNodeModule(moduleUrl(module))),
  );
  // No spares: a command runs once, so a process is started when a node needs it.
  const pool = new PythonPool({
    python: options.python,
    spares: 0,
    pythonPath: options.pythonPath ?? [],
  });
  return {
    nodes: [
      createSileroVad(nodeSileroAssets),
      pool.nodeDefinition(),
      // SpeechToText and TextToSpeech: the gateway's Python classes, in the same pool.
      ...SPEECH_NODE_TYPES.map((declared) => pool.classNodeDefinition(declared)),
      ...custom.flat(),
    ],
    close: () => pool.close(),
  };
}

function moduleUrl(module: string): string {
  return /^(file|https?|data):/.test(module) ? module : pathToFileURL(resolve(module)).href;
}

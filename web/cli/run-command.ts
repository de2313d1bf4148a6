/**
 * `remotemedia run` and `remotemedia validate`: manifests on Node with the same
 * core the browser and the gateway use. Outputs are JSON lines on stdout (audio as
 * WAV files with --out-dir); a failure ends the command with a typed error.
 */
import { readFileSync } from 'node:fs';
import {
  ManifestValidationError,
  PipelineRunner,
  type PreparedPipeline,
  RemoteMediaError,
} from '../core/internal.ts';
import type { Command } from './cli-args.ts';
import { cliNodes } from './cli-nodes.ts';
import { feedInput, type InputSource, resolveInput } from './input-source.ts';
import { OutputSink } from './output-sink.ts';

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
}

type RunCommand = Extract<Command, { name: 'run' }>;

export async function runCommand(command: RunCommand, io: Io): Promise<void> {
  const nodes = await cliNodes(command);
  let sink: OutputSink | undefined;
  try {
    const runner = new PipelineRunner({ nodes: nodes.nodes });
    const prepared = prepareFile(runner, command.manifest);
    if (command.input === undefined) throw missingInput(prepared, command.manifest);
    const input = resolveInput(command.input);
    checkAudioFlags(command, input);
    // Only now: a command that was refused leaves no empty --out-dir behind.
    sink = new OutputSink((record) => io.stdout(JSON.stringify(record)), command.outDir);

    // A bad input (a stdin line that is not JSON) must end the session, or the
    // output loop would wait for ever.
    const inputFailed = new AbortController();
    let inputError: unknown;
    const session = await runner.createStreamSession(prepared, { signal: inputFailed.signal });
    const feeding = feedInput(session, input, {
      frameMs: command.frameMs ?? 20,
      realtime: command.realtime,
      stdin: io.stdin,
      signal: inputFailed.signal,
    }).catch((error: unknown) => {
      inputError = error;
      inputFailed.abort(error);
    });
    let sessionError: unknown;
    try {
      for await (const output of session) sink.write(output);
    } catch (error) {
      sessionError = error;
    }
    await feeding;
    if (inputError ?? sessionError) throw inputError ?? sessionError;
  } finally {
    sink?.close();
    nodes.close();
  }
}

/** Prints `<file>: valid (n nodes)` for each good manifest; returns the invalid ones' errors. */
export async function validateCommand(
  command: Extract<Command, { name: 'validate' }>,
  io: Io,
): Promise<unknown[]> {
  const nodes = await cliNodes({
    python: io.env.REMOTEMEDIA_PYTHON ?? '/usr/bin/python3',
    nodeModules: command.nodeModules,
  });
  const runner = new PipelineRunner({ nodes: nodes.nodes });
  const errors: unknown[] = [];
  for (const path of command.manifests) {
    try {
      const prepared = prepareFile(runner, path);
      const count = prepared.manifest.nodes.length;
      io.stdout(`${path}: valid (${count} node${count === 1 ? '' : 's'})`);
    } catch (error) {
      errors.push(error);
    }
  }
  nodes.close();
  return errors;
}

/** Reads and validates a manifest file; every error names the file. */
function prepareFile(runner: PipelineRunner, path: string): PreparedPipeline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (error as Error).message;
    throw new RemoteMediaError('invalid_data', `cannot read manifest '${path}': ${why}`, { path });
  }
  try {
    return runner.prepare(text);
  } catch (error) {
    if (!(error instanceof ManifestValidationError)) throw error;
    const count = error.issues.length;
    throw new ManifestValidationError(
      error.issues,
      `${path}: invalid manifest (${count} problem${count === 1 ? '' : 's'}):\n${error.issues
        .map((i) => `  - ${i.path || '(root)'}: ${i.message}`)
        .join('\n')}`,
    );
  }
}

/** Every pipeline reads its sources' input: say which nodes wait for what. */
function missingInput(prepared: PreparedPipeline, path: string): RemoteMediaError {
  const sources = prepared.graph.sources.map((id) => {
    const definition = prepared.definitions.get(id)!;
    return { id, type: definition.type, accepts: definition.accepts };
  });
  const wantsAudio = sources.some((s) => s.accepts?.includes('audio'));
  const wantsJson = sources.some((s) => !s.accepts || s.accepts.some((k) => k !== 'audio'));
  const ways = [
    ...(wantsAudio ? ['--input file.wav'] : []),
    ...(wantsJson ? [`--input '<json>' (an array is a list of inputs)`, '--input file.json'] : []),
    '--input - (JSON lines on stdin)',
  ];
  const named = sources
    .map((s) => `'${s.id}' (${s.type}, takes ${s.accepts?.join(' or ') ?? 'any data'})`)
    .join(', ');
  return new RemoteMediaError(
    'usage',
    `remotemedia run: ${path} needs input for its source node${sources.length === 1 ? '' : 's'} ${named}; give ${ways.join(', or ')}`,
  );
}

function checkAudioFlags(command: RunCommand, input: InputSource): void {
  if (input.kind === 'wav') return;
  for (const [flag, given] of [
    ['--frame-ms', command.frameMs !== undefined],
    ['--realtime', command.realtime],
  ] as const) {
    if (given)
      throw new RemoteMediaError(
        'usage',
        `remotemedia run: ${flag} applies to a WAV input, and --input is JSON`,
      );
  }
}

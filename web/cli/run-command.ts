/**
 * The `remotemedia` command line: runs manifests on Node with the same core the
 * browser and the gateway use. Outputs go to stdout as JSON lines; errors go to
 * stderr with a non-zero exit status (1: the pipeline or manifest failed, 2: usage).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  type JsonValue,
  ManifestValidationError,
  PipelineRunner,
  RemoteMediaError,
  RuntimeData,
} from '../core/index.ts';
import { nodeSileroAssets } from '../nodes/silero-assets-node.ts';
import { createSileroVad } from '../nodes/silero-vad.ts';
import { outputRecord } from './output-view.ts';

export const USAGE = `Usage:
  remotemedia run <manifest.json> [--input <json | file.json | ->]
  remotemedia validate <manifest.json>
  remotemedia nodes

run       Runs the manifest and prints each output as a JSON line.
          --input takes a JSON value or a file holding one: an array is a list of
          inputs, anything else one input. "-" streams JSON lines from stdin.
validate  Checks the manifest and prints every problem with its path.
nodes     Lists the node types this runtime knows.`;

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  stdin: NodeJS.ReadableStream;
}

/** A problem with how the command was called (status 2, with usage) or with its input files (1). */
class CliError extends Error {
  constructor(
    message: string,
    readonly status: 1 | 2,
  ) {
    super(message);
  }
}
const usageError = (message: string) => new CliError(message, 2);
const inputError = (message: string) => new CliError(message, 1);

/** Runs the CLI with `args` (without the node and script paths); returns the exit status. */
export async function main(args: string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { input: { type: 'string', short: 'i' }, help: { type: 'boolean', short: 'h' } },
    });
    const [command, manifestPath, ...extra] = positionals;
    if (values.help || command === undefined) {
      io.stdout(USAGE);
      return values.help ? 0 : 2;
    }
    const runner = new PipelineRunner({ nodes: [createSileroVad(nodeSileroAssets)] });
    if (command === 'nodes') {
      for (const type of runner.registry.types()) {
        const definition = runner.registry.get(type)!;
        const aliases = definition.aliases?.length
          ? ` (also: ${definition.aliases.join(', ')})`
          : '';
        io.stdout(`${type}${aliases}  ${definition.description ?? ''}`.trimEnd());
      }
      return 0;
    }
    if (command !== 'run' && command !== 'validate')
      throw usageError(`unknown command '${command}'`);
    if (manifestPath === undefined) throw usageError(`${command} needs a manifest file`);
    if (extra.length > 0) throw usageError(`unexpected arguments: ${extra.join(' ')}`);
    const prepared = runner.prepare(readText(manifestPath, 'manifest'));
    if (command === 'validate') {
      io.stdout(`${manifestPath}: valid (${prepared.manifest.nodes.length} nodes)`);
      return 0;
    }
    // A bad input line must end the session, or the output loop would wait forever.
    const inputFailed = new AbortController();
    let inputError: unknown;
    const session = await runner.createStreamSession(prepared, { signal: inputFailed.signal });
    const feeding = feed(session, values.input, io).catch((error: unknown) => {
      inputError = error;
      inputFailed.abort(error);
    });
    let sessionError: unknown;
    try {
      for await (const output of session) io.stdout(JSON.stringify(outputRecord(output)));
    } catch (error) {
      sessionError = error;
    }
    await feeding;
    if (inputError ?? sessionError) throw inputError ?? sessionError;
    return 0;
  } catch (error) {
    return report(error, io);
  }
}

async function feed(
  session: { sendInput(d: RuntimeData): Promise<void>; close(): Promise<void> },
  input: string | undefined,
  io: Io,
): Promise<void> {
  if (input === '-') {
    let line = 0;
    for await (const text of createInterface({
      input: io.stdin,
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      line++;
      if (text.trim() === '') continue;
      await session.sendInput(RuntimeData.json(parseJson(text, `stdin line ${line}`)));
    }
  } else if (input !== undefined) {
    const value = existsSync(input)
      ? parseJson(readText(input, 'input'), input)
      : parseJson(input, '--input');
    for (const item of Array.isArray(value) ? value : [value])
      await session.sendInput(RuntimeData.json(item));
  }
  await session.close();
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw inputError(`cannot read ${what} '${path}': ${(error as Error).message}`);
  }
}

function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw inputError(`${where} is not JSON (${(error as Error).message})`);
  }
}

function report(error: unknown, io: Io): number {
  if (error instanceof CliError) {
    io.stderr(`remotemedia: ${error.message}${error.status === 2 ? `\n\n${USAGE}` : ''}`);
    return error.status;
  }
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.stderr(`remotemedia: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (error instanceof ManifestValidationError) {
    io.stderr(`remotemedia: ${error.message}`);
    return 1;
  }
  if (error instanceof RemoteMediaError) {
    // An unexpected exception inside a node deserves its stack; our own typed errors do not.
    const cause =
      error.cause instanceof Error && !(error.cause instanceof RemoteMediaError)
        ? `\n${error.cause.stack}`
        : '';
    io.stderr(`remotemedia: [${error.kind}] ${error.message}${cause}`);
    return 1;
  }
  io.stderr(`remotemedia: ${(error as Error)?.stack ?? String(error)}`);
  return 1;
}

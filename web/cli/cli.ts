/**
 * The `remotemedia` command line: parses the call, runs the command, and turns
 * every failure into one message on stderr and an exit status — 0 done, 1 the
 * manifest, its input or the pipeline failed, 2 the command was called wrongly.
 * Stack traces are printed only for what nobody anticipated (a bug, or an
 * exception thrown inside a node).
 */
import { ManifestValidationError, PipelineRunner, RemoteMediaError } from '../core/internal.ts';
import { parseCommand } from './cli-args.ts';
import { cliNodes } from './cli-nodes.ts';
import { type Io, runCommand, validateCommand } from './run-command.ts';

export type { Io } from './run-command.ts';

/** Runs the CLI with `args` (without the node and script paths); returns the exit status. */
export async function main(args: string[], io: Io): Promise<number> {
  try {
    const command = parseCommand(args, io.env);
    switch (command.name) {
      case 'help':
        io.stdout(command.text);
        return 0;
      case 'nodes':
        await listNodes(command.nodeModules, io);
        return 0;
      case 'validate': {
        const errors = await validateCommand(command, io);
        for (const error of errors) report(error, io);
        return errors.length > 0 ? 1 : 0;
      }
      case 'run':
        await runCommand(command, io);
        return 0;
    }
  } catch (error) {
    return report(error, io);
  }
}

async function listNodes(nodeModules: readonly string[], io: Io): Promise<void> {
  const nodes = await cliNodes({
    python: io.env.REMOTEMEDIA_PYTHON ?? '/usr/bin/python3',
    nodeModules,
  });
  const { registry } = new PipelineRunner({ nodes: nodes.nodes });
  for (const type of registry.types()) {
    const definition = registry.get(type)!;
    const aliases = definition.aliases?.length ? ` (also: ${definition.aliases.join(', ')})` : '';
    io.stdout(`${type}${aliases}  ${definition.description ?? ''}`.trimEnd());
  }
  nodes.close();
}

function report(error: unknown, io: Io): 1 | 2 {
  if (error instanceof ManifestValidationError) {
    io.stderr(`remotemedia: ${error.message}`);
    return 1;
  }
  if (error instanceof RemoteMediaError) {
    if (error.kind === 'usage') {
      io.stderr(
        error.message.startsWith('remotemedia') ? error.message : `remotemedia: ${error.message}`,
      );
      return 2;
    }
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

/**
 * The commands of `remotemedia`, their flags and their help, and the one parser
 * that turns argv into a typed command. A bad call is a RemoteMediaError of kind
 * `usage` whose message is one line that says what would be valid.
 */
import { parseArgs } from 'node:util';
import { RemoteMediaError } from '../core/internal.ts';

interface Flag {
  type: 'string' | 'boolean';
  /** May be given more than once (a list). */
  multiple?: boolean;
  short?: string;
  value?: string;
  help: string;
}

/** The interpreter PythonNode runs under, as the gateway's --python (REMOTEMEDIA_PYTHON). */
const PYTHON_FLAG: Flag = {
  type: 'string',
  value: 'path',
  help: 'the CPython that runs PythonNode (default: $REMOTEMEDIA_PYTHON or /usr/bin/python3)',
};

/** Folders of the user's own Python modules, as the gateway's --python-path. */
const PYTHON_PATH_FLAG: Flag = {
  type: 'string',
  multiple: true,
  value: 'dir',
  help: 'a folder searched for Python modules, so a PythonNode "class" may be "yourmodule:YourNode"; may be given more than once',
};

/** Custom node types, as the gateway's --nodes and createRuntime({ nodeModules }) take them. */
const NODES_FLAG: Flag = {
  type: 'string',
  multiple: true,
  value: 'module.js',
  help: 'an ES module whose default export is an array of node definitions (defineNode); may be given more than once',
};

const COMMANDS = {
  run: {
    args: '<manifest.json>',
    summary: 'Runs a manifest on Node; outputs are JSON lines on stdout.',
    flags: {
      input: {
        type: 'string',
        short: 'i',
        value: 'json | file.json | file.wav | -',
        help: 'what the pipeline reads: a JSON value (an array is a list of inputs), a file holding one, a WAV file (audio at any rate and channel count), or "-" for JSON lines on stdin',
      },
      'frame-ms': {
        type: 'string',
        value: 'ms',
        help: 'length of the audio blocks a WAV input is cut into (default 20)',
      },
      realtime: { type: 'boolean', help: 'feed a WAV input at its own pace, like a live source' },
      'out-dir': {
        type: 'string',
        short: 'o',
        value: 'dir',
        help: 'write audio outputs there as WAV files, one JSON line naming each file (created if missing)',
      },
      python: PYTHON_FLAG,
      'python-path': PYTHON_PATH_FLAG,
      nodes: NODES_FLAG,
      help: { type: 'boolean', short: 'h', help: 'this help' },
    },
  },
  validate: {
    args: '<manifest.json>...',
    summary: 'Checks manifests without running them and prints every problem with its path.',
    flags: { nodes: NODES_FLAG, help: { type: 'boolean', short: 'h', help: 'this help' } },
  },
  nodes: {
    args: '',
    summary: 'Lists the node types this command can run.',
    flags: { nodes: NODES_FLAG, help: { type: 'boolean', short: 'h', help: 'this help' } },
  },
} satisfies Record<string, { args: string; summary: string; flags: Record<string, Flag> }>;

export type CommandName = keyof typeof COMMANDS;

export type Command =
  | { name: 'help'; text: string }
  | {
      name: 'run';
      manifest: string;
      input?: string;
      frameMs?: number;
      realtime: boolean;
      outDir?: string;
      python: string;
      pythonPath: string[];
      nodeModules: string[];
    }
  | { name: 'validate'; manifests: string[]; nodeModules: string[] }
  | { name: 'nodes'; nodeModules: string[] };

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  remotemedia ${name} ${c.args}`.trimEnd().padEnd(44) + c.summary,
  );
  return `Usage:\n${lines.join('\n')}\n\nremotemedia <command> --help says more about each.`;
}

export function commandHelp(name: CommandName): string {
  const command = COMMANDS[name];
  const flags = Object.entries(command.flags as Record<string, Flag>).map(([flag, f]) => {
    const spelled = `${f.short ? `-${f.short}, ` : '    '}--${flag}${f.value ? ` <${f.value}>` : ''}`;
    return `  ${spelled}\n        ${f.help}`;
  });
  return (
    `Usage: remotemedia ${name} ${command.args}`.trimEnd() +
    `\n\n${command.summary}\n\n${flags.join('\n')}`
  );
}

const usageError = (message: string) => new RemoteMediaError('usage', message);

/** argv without the node and script paths -> the command to run. Throws `usage` errors. */
export function parseCommand(
  args: readonly string[],
  env: Record<string, string | undefined>,
): Command {
  const [name, ...rest] = args;
  if (name === undefined)
    throw usageError(`a command is needed: run, validate or nodes (see remotemedia --help)`);
  if (name === '--help' || name === '-h' || name === 'help') return { name: 'help', text: usage() };
  if (!Object.hasOwn(COMMANDS, name)) {
    throw usageError(
      `${name.startsWith('-') ? `'${name}' is not a command` : `unknown command '${name}'`}; the commands are run, validate and nodes (see remotemedia --help)`,
    );
  }
  const command = name as CommandName;
  const { values, positionals } = parseFlags(command, rest);
  if (values.help) return { name: 'help', text: commandHelp(command) };
  const where = `remotemedia ${command}`;
  const nodeModules = (values.nodes as string[] | undefined) ?? [];
  switch (command) {
    case 'nodes':
      if (positionals.length > 0)
        throw usageError(`${where} takes no arguments (found ${positionals.join(' ')})`);
      return { name: 'nodes', nodeModules };
    case 'validate':
      if (positionals.length === 0)
        throw usageError(`${where} needs a manifest file (see ${where} --help)`);
      return { name: 'validate', manifests: positionals, nodeModules };
    case 'run': {
      const [manifest, ...extra] = positionals;
      if (manifest === undefined)
        throw usageError(`${where} needs a manifest file (see ${where} --help)`);
      if (extra.length > 0) {
        throw usageError(
          `${where} takes one manifest; unexpected: ${extra.join(' ')} (give inputs with --input)`,
        );
      }
      const frameMs =
        values['frame-ms'] === undefined ? undefined : parseFrameMs(values['frame-ms'] as string);
      return {
        name: 'run',
        manifest,
        input: values.input as string | undefined,
        frameMs,
        realtime: values.realtime === true,
        outDir: values['out-dir'] as string | undefined,
        python:
          (values.python as string | undefined) ?? env.REMOTEMEDIA_PYTHON ?? '/usr/bin/python3',
        pythonPath: (values['python-path'] as string[] | undefined) ?? [],
        nodeModules,
      };
    }
  }
}

function parseFlags(command: CommandName, args: string[]) {
  const flags = COMMANDS[command].flags as Record<string, Flag>;
  const options = Object.fromEntries(
    Object.entries(flags).map(([flag, f]) => [
      flag,
      {
        type: f.type,
        ...(f.short ? { short: f.short } : {}),
        ...(f.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's messages are long and speak of its own syntax: say it our way, in one line.
    const message = (error as Error).message;
    // "Option '-i, --input <value>' argument missing": the long name says most.
    const flag = /'(?:-\w, )?(--?[^' <,]+)/.exec(message)?.[1] ?? '';
    const known = Object.keys(flags)
      .map((f) => `--${f}`)
      .join(', ');
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw usageError(
        `remotemedia ${command}: unknown option '${flag}'; it takes ${known} (see remotemedia ${command} --help)`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw usageError(
        message.includes('argument missing')
          ? `remotemedia ${command}: ${flag} needs a value (see remotemedia ${command} --help)`
          : `remotemedia ${command}: ${flag} takes no value`,
      );
    }
    throw usageError(`remotemedia ${command}: ${message}`);
  }
}

function parseFrameMs(text: string): number {
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0 || ms > 10_000) {
    throw usageError(
      `remotemedia run: --frame-ms must be a number of milliseconds in (0, 10000], not '${text}'`,
    );
  }
  return ms;
}

/**
 * The gateway command's flags, declared once: each flag's environment twin, its
 * help line and its parsing come from the same table, so `--help` cannot forget a
 * flag and a bad flag or value is one `usage` error (the command prints its message
 * as one line and exits 2), never a stack trace. A flag's environment variable is
 * its name in capitals after a prefix: `--allow-origin` is
 * REMOTEMEDIA_GATEWAY_ALLOW_ORIGIN (comma-separated for repeatable flags).
 */
import { parseArgs } from 'node:util';
import { RemoteMediaError } from '../web/core/internal.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** A string flag that may be given many times; its environment twin is comma-separated. */
  multiple?: boolean;
  /** What the value is, for the help text (`PORT`, `URL`, `BYTES`). */
  value?: string;
  /** What it does, and its default: one line. */
  help: string;
}

type FlagValue<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : string | undefined;

export type FlagValues<T extends Record<string, FlagSpec>> = { [K in keyof T]: FlagValue<T[K]> };

const usage = (message: string) => new RemoteMediaError('usage', message);

/**
 * Parses `args` against `specs`, each missing flag taken from its environment
 * variable. Unknown flags, missing values and positionals are `usage` errors.
 */
export function parseFlags<T extends Record<string, FlagSpec>>(
  specs: T,
  envPrefix: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): FlagValues<T> {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, multiple: spec.multiple ?? false },
    ]),
  );
  let given: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    given = parseArgs({ args: [...args], options, strict: true }).values;
  } catch (error) {
    // parseArgs throws a TypeError whose message names the flag; keep its first sentence.
    throw usage(
      String((error as Error).message)
        .split('. ')[0]!
        .replace(/\.$/, ''),
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const envName = envVariable(envPrefix, name);
    const fromEnv = env[envName];
    if (given[name] !== undefined) values[name] = given[name];
    else if (spec.type === 'boolean') values[name] = envBoolean(fromEnv, envName);
    else if (spec.multiple)
      values[name] = fromEnv ? fromEnv.split(',').map((item) => item.trim()) : [];
    else values[name] = fromEnv === '' ? undefined : fromEnv;
  }
  return values as FlagValues<T>;
}

/** `allow-origin` -> `<prefix>ALLOW_ORIGIN`. */
export const envVariable = (prefix: string, flag: string) =>
  `${prefix}${flag.toUpperCase().replaceAll('-', '_')}`;

function envBoolean(text: string | undefined, name: string): boolean {
  if (text === undefined || text === '' || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true') return true;
  throw usage(`${name}=${text}: expected 1 or 0 (true or false)`);
}

/**
 * A whole number from a flag's text, at least `min`; undefined when the flag was
 * not given. Anything else is a `usage` error naming the flag.
 */
export function integerFlag(text: string | undefined, flag: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    throw usage(`--${flag} ${JSON.stringify(text)}: expected a whole number >= ${min}`);
  }
  return value;
}

/**
 * One line per flag: `--port PORT  REMOTEMEDIA_GATEWAY_PORT  what it does`, and a
 * last one for `--help` (which has no variable).
 */
export function flagHelp(specs: Record<string, FlagSpec>, envPrefix: string): string {
  const rows = Object.entries(specs).map(([name, spec]) => [
    `--${name}${spec.value ? ` ${spec.value}` : ''}${spec.multiple ? ' ...' : ''}`,
    envVariable(envPrefix, name),
    spec.help,
  ]);
  rows.push(['--help', '', 'print this and exit']);
  const width = (column: number) => Math.max(...rows.map((row) => row[column]!.length));
  const [flagWidth, envWidth] = [width(0), width(1)];
  return rows
    .map(([flag, env, help]) =>
      `  ${flag!.padEnd(flagWidth)}  ${env!.padEnd(envWidth)}  ${help}`.trimEnd(),
    )
    .join('\n');
}

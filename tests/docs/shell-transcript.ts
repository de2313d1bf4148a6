/**
 * A shell block as a transcript: commands, each optionally followed by the output
 * it prints, written as `# ` comment lines right under it (no blank line between):
 *
 *   remotemedia run m.json --input '[1, 2]'
 *   # {"node":"calc","kind":"json","value":6}
 *   # ...
 *
 * The block runs as one bash script (so `cd` and variables carry over, as for a
 * reader typing it) with a marker printed before each command, which splits
 * stdout per command. An expected line that is JSON matches an output line equal
 * as JSON; `...` matches any number of lines; any other line matches exactly.
 */

export interface ShellCommand {
  text: string;
  /** The lines it must print, when the doc shows them. */
  expected?: string[];
}

const MARK = '@@doc-test-command';

export function parseTranscript(code: string): ShellCommand[] {
  const lines = code.split('\n');
  const commands: ShellCommand[] = [];
  let last: ShellCommand | undefined; // the command a `# ` line right under it belongs to
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '') {
      last = undefined;
    } else if (trimmed.startsWith('#')) {
      if (last) (last.expected ??= []).push(trimmed.replace(/^# ?/, ''));
    } else {
      const parts = [line];
      // A command goes on over `\` line ends and through a here-document.
      const heredoc = /<<-?\s*['"]?(\w+)['"]?/.exec(line)?.[1];
      while (/\\$/.test(lines[i]!) && i + 1 < lines.length) parts.push(lines[++i]!);
      if (heredoc)
        while (i + 1 < lines.length && lines[i]!.trim() !== heredoc) parts.push(lines[++i]!);
      last = { text: parts.join('\n') };
      commands.push(last);
    }
  }
  return commands;
}

/** The script that runs the commands in order, stopping at the first that fails. */
export function transcriptScript(commands: readonly ShellCommand[]): string {
  const body = commands.map((c, i) => `printf '\\n${MARK} ${i}@@\\n'\n${c.text}`).join('\n');
  return `set -euo pipefail\n${body}\n`;
}

/** stdout split back into each command's output (commands that did not run are missing). */
export function outputsOf(stdout: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const parts = stdout.split(new RegExp(`\\n${MARK} (\\d+)@@\\n`));
  for (let i = 1; i + 1 < parts.length; i += 2) {
    out.set(
      Number(parts[i]),
      parts[i + 1]!.split('\n').filter((l) => l.trim() !== ''),
    );
  }
  return out;
}

/** Why `actual` does not match `expected`, or undefined when it does. */
export function mismatch(
  expected: readonly string[],
  actual: readonly string[],
): string | undefined {
  const match = (e: number, a: number): boolean => {
    if (e === expected.length) return a === actual.length;
    if (expected[e] === '...') {
      for (let k = a; k <= actual.length; k++) if (match(e + 1, k)) return true;
      return false;
    }
    return a < actual.length && sameLine(expected[e]!, actual[a]!) && match(e + 1, a + 1);
  };
  if (match(0, 0)) return undefined;
  return `expected:\n${expected.map((l) => `  ${l}`).join('\n')}\nprinted:\n${actual.map((l) => `  ${l}`).join('\n')}`;
}

function sameLine(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  const e = parseJson(expected);
  const a = parseJson(actual);
  return (
    e !== undefined && a !== undefined && JSON.stringify(sorted(e)) === JSON.stringify(sorted(a))
  );
}

function parseJson(text: string): unknown {
  if (!/^[[{"\d-]|^(true|false|null)$/.test(text.trim())) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Key order does not matter when comparing JSON. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

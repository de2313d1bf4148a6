/**
 * A Python gateway client (Debian's /usr/bin/python3, the remotemedia package on its
 * path) that a test talks to over stdin/stdout: the script prints a line when it
 * reaches a point the test acts at (a pause, "ready"), waits for a line on stdin, and
 * prints its result as one JSON line last. Taking turns this way, nothing in the
 * restart and liveness tests depends on timing.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** remote-gateway/testing/<name>, for a script kept there. */
export const testingScript = (name: string): string => join(ROOT, 'remote-gateway/testing', name);

/** RestartedEvent.to_json() of the Python client: the TypeScript event's shape. */
export interface PythonRestart {
  type: string;
  reason: string;
  lostGateway: string | null;
  gateway: string | null;
  lost: { port: number; frames: number[] }[];
  sent: { port: number; first: number; last: number }[];
  received: number[];
  nodesReset: string[];
  restarts: number;
}

/** How a Python session ended: its error (type, kind, message), or null. */
export type PythonError = { type: string; kind: string | null; message: string } | null;

export interface PythonClient {
  /**
   * The next line matching `pattern` after the last one taken (each is taken once),
   * so a script that pauses twice is met twice. Rejects if the script exits first.
   */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  /** Lets the script go on from a pause. */
  go(): void;
  /**
   * Waits for the script's exit and gives its last line, parsed. Rejects, with what
   * it wrote, if it exits with another status than 0, or (a hang) is still running
   * after `boundMs`, when given; it is killed then.
   */
  result<T>(boundMs?: number): Promise<T>;
}

/** Starts `/usr/bin/python3 <args>` (a script path, or `-c`, code) with the package on its path. */
export function startPython(args: readonly (string | number)[]): PythonClient {
  const python = spawn('/usr/bin/python3', args.map(String), {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'python-packages') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let taken = 0;
  python.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => python.once('exit', resolve));
  const lookers = new Set<() => void>();
  python.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const look of lookers) look();
  });
  return {
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const sticky = new RegExp(pattern.source, pattern.flags.replace('g', '') + 'g');
        const look = () => {
          sticky.lastIndex = taken;
          const found = sticky.exec(out);
          if (!found) return;
          taken = found.index + found[0].length;
          lookers.delete(look);
          resolve(found);
        };
        lookers.add(look);
        void exited.then(() => reject(new Error(`the client exited first:\n${out}\n${err}`)));
        look();
      }),
    go: () => python.stdin.write('go\n'),
    result: async <T>(boundMs?: number): Promise<T> => {
      python.stdin.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<'hung'>((resolve) => {
        if (boundMs !== undefined) timer = setTimeout(() => resolve('hung'), boundMs);
      });
      const code = await Promise.race([exited, hung]);
      clearTimeout(timer);
      if (code === 'hung') {
        python.kill('SIGKILL');
        throw new Error(`hung: no result within ${boundMs} ms; stdout ${out}; stderr ${err}`);
      }
      if (code !== 0) throw new Error(`python exited ${code}: ${err}`);
      return JSON.parse(out.trim().split('\n').pop()!) as T;
    },
  };
}

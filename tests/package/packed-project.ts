/**
 * The package as a user gets it: this checkout's built `npm pack` tarball,
 * installed into a new project under os.tmpdir() — outside the repository, so
 * nothing resolves into the checkout or its node_modules; the project sees the
 * tarball and the registry (npm's warm cache, --prefer-offline) only.
 *
 * The tarball is packed once per build: test files in the same run (and reruns
 * with the same dist/) share it through a cache keyed by what `files` ships.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO = resolve(import.meta.dirname, '../..');

/** What a test needs built before packing (npm test builds first). */
const BUILT = [
  'dist/web/index.node.js',
  'dist/web/cli/remotemedia.js',
  'dist/remote-gateway/main.js',
];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment; npm's own `npm_*` variables of a parent run are never passed on. */
  env?: Record<string, string>;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/**
 * The environment for commands in the project: this process's, without what a
 * parent `npm test` put there (npm_config_local_prefix and friends would point
 * npm back at the checkout).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; never rejects on a non-zero status (the caller checks it). */
export function run(
  cwd: string,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      command,
      args,
      { cwd, env: cleanEnv(options.env), maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number' && error.signal == null) reject(error);
        else resolveRun({ status: child.exitCode, stdout, stderr });
      },
    );
    child.stdin!.end(options.input ?? '');
  });
}

/** A long-running command (a server): its output lines as they come, and a way to stop it. */
export interface Started {
  child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern` (rejects if the command ends first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Settles when the command ends by itself or is stopped: its exit status, or null after a signal. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export function start(
  cwd: string,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Started {
  // Its own process group: npx does not always pass a signal on to the command it
  // runs, so stop() signals the whole group and nothing outlives the test.
  const child = spawn(command, args, { cwd, env: cleanEnv(options.env), detached: true });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (status) => done(status)));
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  return {
    child,
    waitFor(pattern) {
      return new Promise((found, fail) => {
        const check = () => {
          for (const line of lines) {
            const match = pattern.exec(line);
            if (match) return (waiters.delete(check), found(match));
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            fail(new Error(`${command} ${args.join(' ')} ended before ${pattern}:\n${errors}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    stderr: () => errors,
    exited,
    async stop() {
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, name);
        } catch {
          // the group is gone already
        }
      };
      signal('SIGTERM');
      const killer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      // The command npx started may still be draining after npx itself has exited.
      signal('SIGKILL');
    },
  };
}

/** Path, size and mtime of every file `files` ships: a new build makes a new key. */
function shippedFilesKey(): string {
  const manifest = readFileSync(join(REPO, 'package.json'), 'utf8');
  const hash = createHash('sha256').update(manifest);
  const walk = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) walk(join(path, name));
    } else {
      hash.update(`${relative(REPO, path)}:${stat.size}:${stat.mtimeMs}\n`);
    }
  };
  const files = (JSON.parse(manifest) as { files: string[] }).files;
  for (const entry of files.filter((f) => !f.startsWith('!'))) walk(join(REPO, entry));
  return hash.digest('hex').slice(0, 16);
}

const PACK_CACHE = join(tmpdir(), 'remotemedia-web-pack');

/**
 * The path of this checkout's packed tarball, packing it if this build has not
 * been packed yet. Test files packing at once wait for one another (a lock
 * directory), so the tarball is packed once.
 */
export async function packTarball(): Promise<string> {
  for (const file of BUILT) {
    if (!existsSync(join(REPO, file))) {
      throw new Error(`${file} is missing: build first (npm run build)`);
    }
  }
  const key = shippedFilesKey();
  const dir = join(PACK_CACHE, key);
  const done = join(dir, 'tarball');
  const lock = join(PACK_CACHE, `${key}.lock`);
  mkdirSync(PACK_CACHE, { recursive: true });
  for (;;) {
    if (existsSync(done)) return join(dir, readFileSync(done, 'utf8'));
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is packing this build; a lock older than 5 minutes is left over.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > 300_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((wake) => setTimeout(wake, 500));
    }
  }
  try {
    // Older builds' tarballs are of no further use.
    for (const name of readdirSync(PACK_CACHE)) {
      if (name !== key && !name.endsWith('.lock')) {
        rmSync(join(PACK_CACHE, name), { recursive: true, force: true });
      }
    }
    const staging = mkdtempSync(join(PACK_CACHE, `${key}-staging-`));
    const packed = await run(REPO, 'npm', ['pack', '--json', '--pack-destination', staging]);
    if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
    const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
    writeFileSync(join(staging, 'tarball'), filename);
    renameSync(staging, dir);
    return join(dir, filename);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface PackedProject {
  /** The project folder (under os.tmpdir()). */
  dir: string;
  tarball: string;
  /** Runs a command in the project. */
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running command in the project. */
  start(command: string, args: readonly string[], options?: RunOptions): Started;
  /** Deletes the project. */
  remove(): void;
}

/**
 * A new ES-module project holding the packed package and `dependencies` (names
 * or name@range, from the registry), installed with one `npm install`.
 */
export async function packedProject(
  options: { name?: string; dependencies?: readonly string[] } = {},
): Promise<PackedProject> {
  const tarball = await packTarball();
  const dir = mkdtempSync(join(tmpdir(), `${options.name ?? 'remotemedia-consumer'}-`));
  if (!relative(REPO, dir).startsWith('..')) {
    throw new Error(`the project ${dir} must be outside the repository ${REPO} (set TMPDIR)`);
  }
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: options.name ?? 'remotemedia-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  const installed = await run(dir, 'npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    tarball,
    ...(options.dependencies ?? []),
  ]);
  if (installed.status !== 0) {
    throw new Error(`npm install in ${dir} failed:\n${installed.stderr}`);
  }
  return {
    dir,
    tarball,
    run: (command, args, runOptions) => run(dir, command, args, runOptions),
    start: (command, args, runOptions) => start(dir, command, args, runOptions),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

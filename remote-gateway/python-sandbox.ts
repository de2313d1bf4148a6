/**
 * The sandbox of client code on the gateway: a CPython node runner started under
 * bubblewrap (Debian's `bubblewrap`, /usr/bin/bwrap) when the session's token allows
 * the holder's own Python and the node asks for no container (a container is its
 * own sandbox, container-executor.ts).
 *
 * Inside: no network (a namespace of its own, loopback only to itself), no view of
 * the gateway's processes (a pid namespace, a fresh /proc), a root made of read-only
 * binds of /usr and the remotemedia package only, a private tmpfs /tmp that is the
 * node's scratch directory, uid/gid 65534 (nobody) with no capabilities, a new
 * session (no terminal to inject into), and an environment holding only what the
 * runner needs. A gateway running as root drops to 65534 before bwrap starts
 * (setpriv, under prlimit's cap on processes), so even the user namespace maps to
 * nobody, not to root. bwrap keeps inherited file descriptors, so the runner's
 * pipes pass through unchanged.
 */
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunnerCommand } from './python-process.ts';

export interface SandboxOptions {
  /** The bubblewrap binary. Default /usr/bin/bwrap. */
  bwrap?: string;
  /** util-linux setpriv, used to leave root before bwrap starts. Default /usr/bin/setpriv. */
  setpriv?: string;
  /** The uid and gid the node runs as. Default 65534 (nobody). */
  uid?: number;
  gid?: number;
  /** Size of the private /tmp, bytes. Default 64 MiB. */
  scratchBytes?: number;
  /** More host paths bound read-only at the same place (an interpreter outside /usr). */
  readOnlyPaths?: readonly string[];
  /**
   * Processes that all sandboxed nodes together may hold (RLIMIT_NPROC of the
   * sandbox uid, set by a gateway running as root): a fork bomb stops there, not at
   * the machine's limit. Default 512.
   */
  maxProcesses?: number;
  /** util-linux prlimit, which sets that limit. Default /usr/bin/prlimit. */
  prlimit?: string;
}

/** Names the sandbox's environment is built from: never a gateway setting or secret. */
const PASSED_ENV =
  /^(PYTHONPATH|PYTHONDONTWRITEBYTECODE|REMOTEMEDIA_MEMORY_LIMIT_BYTES|REMOTEMEDIA_ALLOW_PICKLE)$/;

/** The top-level links of a merged-/usr system (/lib -> usr/lib) are recreated, not bound. */
const ROOT_ENTRIES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** The same runner, started inside bubblewrap. */
export function sandboxedCommand(
  command: RunnerCommand,
  options: SandboxOptions = {},
): RunnerCommand {
  const uid = String(options.uid ?? 65534);
  const gid = String(options.gid ?? 65534);
  const bwrap = options.bwrap ?? '/usr/bin/bwrap';
  const binds = new Set(['/usr', ...(options.readOnlyPaths ?? [])]);
  // The interpreter's installation, when it is not Debian's under /usr.
  const interpreter = realpathOrSelf(command.file);
  if (!interpreter.startsWith('/usr/')) binds.add(dirname(dirname(interpreter)));
  if (command.cwd) binds.add(command.cwd);
  const pythonPath = command.env.PYTHONPATH;
  for (const entry of pythonPath?.split(':') ?? []) if (entry) binds.add(entry);

  const args: string[] = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--disable-userns',
    '--uid',
    uid,
    '--gid',
    gid,
    '--hostname',
    'remotemedia-sandbox',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
  ];
  for (const [name, value] of Object.entries(command.env)) {
    if (PASSED_ENV.test(name)) args.push('--setenv', name, value);
  }
  args.push('--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'HOME', '/tmp');
  args.push('--setenv', 'TMPDIR', '/tmp', '--setenv', 'LANG', 'C.UTF-8');
  // Mounts apply in order: the scratch /tmp first, so a package under /tmp stays visible.
  args.push('--size', String(options.scratchBytes ?? 64 << 20), '--tmpfs', '/tmp');
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const path of binds) args.push('--ro-bind', reachableCopyOf(path), path);
  for (const entry of ROOT_ENTRIES) {
    const link = linkTarget(entry);
    if (link !== undefined) args.push('--symlink', link, entry);
  }
  args.push('--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache');
  args.push('--ro-bind-try', '/etc/localtime', '/etc/localtime');
  // Debian reaches some libraries (libblas for numpy) through alternatives links.
  args.push('--ro-bind-try', '/etc/alternatives', '/etc/alternatives');
  args.push('--chdir', '/tmp', '--', command.file, ...command.args);

  // Root leaves root before bwrap: the user namespace then maps to nobody outside too.
  const asRoot = process.getuid?.() === 0;
  const processes = String(options.maxProcesses ?? 512);
  const file = asRoot ? (options.prlimit ?? '/usr/bin/prlimit') : bwrap;
  const prefix = asRoot
    ? [
        `--nproc=${processes}:${processes}`,
        '--core=0:0',
        options.setpriv ?? '/usr/bin/setpriv',
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        bwrap,
      ]
    : [];
  return {
    ...command,
    file,
    args: [...prefix, ...args],
    env: {},
    cwd: '/',
    label: `the sandboxed ${command.label.replace(/^the /, '')}`,
  };
}

/**
 * Why client code cannot be sandboxed here (a tool missing), or undefined when it
 * can. The gateway then refuses client code with this reason instead of starting
 * processes that would fail.
 */
export function sandboxUnavailable(options: SandboxOptions = {}): string | undefined {
  const tools = [options.bwrap ?? '/usr/bin/bwrap'];
  if (process.getuid?.() === 0) {
    tools.push(options.setpriv ?? '/usr/bin/setpriv', options.prlimit ?? '/usr/bin/prlimit');
  }
  const missing = tools.filter((tool) => !isExecutable(tool));
  return missing.length === 0
    ? undefined
    : `${missing.join(', ')} not found: client code runs only under bubblewrap (Debian: apt-get install bubblewrap util-linux)`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * bwrap runs as the sandbox's uid, which must reach what it binds: a checkout under
 * /root or a 0700 temporary folder it cannot. Such a folder is bound from a copy
 * that others may read, made once per gateway process (at pool set-up, never per
 * call) and removed when the process exits. A process killed before its exit
 * handlers run (a test worker, kill -9) leaves its copy behind, so the copy's
 * folder names its owner's pid and each new copy first removes those whose owner
 * is gone.
 */
const copies = new Map<string, string>();
const COPY_PREFIX = 'remotemedia-sandbox-';
function reachableCopyOf(path: string): string {
  if (reachableByOthers(path)) return path;
  let copy = copies.get(path);
  if (copy === undefined) {
    removeOrphanedCopies();
    const staging = mkdtempSync(join(tmpdir(), `${COPY_PREFIX}${process.pid}-`));
    chmodSync(staging, 0o755);
    copy = join(staging, 'bound');
    cpSync(path, copy, { recursive: true, filter: (from) => !from.endsWith('__pycache__') });
    openToOthers(copy);
    copies.set(path, copy);
    if (copies.size === 1) {
      process.once('exit', () => {
        for (const made of copies.values()) rmSync(dirname(made), { recursive: true, force: true });
      });
    }
  }
  return copy;
}

/** Removes the copies of gateway processes that no longer run. */
export function removeOrphanedCopies(folder: string = tmpdir()): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const owner = new RegExp(`^${COPY_PREFIX}(\\d+)-`).exec(entry);
    if (!owner || isRunning(Number(owner[1]))) continue;
    rmSync(join(folder, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a process of another uid may read `path` (every folder above it searchable). */
function reachableByOthers(path: string): boolean {
  try {
    const stat = statSync(path);
    const needed = stat.isDirectory() ? 0o005 : 0o004;
    if ((stat.mode & needed) !== needed) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) return false;
      if (dir === dirname(dir)) return true;
    }
  } catch {
    return false;
  }
}

function openToOthers(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, stat.isDirectory() ? 0o755 : 0o644);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path)) openToOthers(join(path, entry));
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The environment of a trusted child (the docker CLI, an unsandboxed runner): the
 * gateway's own, less every REMOTEMEDIA_GATEWAY_* setting — tokens and the token
 * secret are the gateway's and no child's.
 */
export function withoutGatewaySecrets(
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !name.startsWith('REMOTEMEDIA_GATEWAY_')) out[name] = value;
  }
  return out;
}

/**
 * A warm pool of node containers (the original's "container sharing across sessions
 * with reference counting, health monitoring and automatic cleanup"). Containers are
 * kept per resource class — image, memory and CPUs, the things fixed when a container
 * starts — and lent to one node runner at a time:
 *
 * - A container is started once (`docker run -d`, its limits, no network) with an
 *   idle keeper as its PID 1, running as a uid (65533) other than the nodes' (65534),
 *   so no node can signal, trace or replace it.
 * - Each node gets a fresh runner process inside it (`docker exec -i --user 65534
 *   ... python3 -m remotemedia.node_runner`): no interpreter state crosses sessions.
 *   Between two lendings the container is reset: every process of the nodes' uid is
 *   killed and /tmp and /dev/shm (the only writable places: the root is read-only)
 *   are emptied, so nothing a session left behind reaches the next one.
 * - After the reset, the next runner is started ahead and pinged through the
 *   runner protocol (a cancel with nothing to cancel answers `{"cancelled": 0}`):
 *   the next session takes a runner that is already up and known to answer. It is
 *   pinged again when lent.
 * - `refs` counts the runners lent out of a container; it is at most 1, so a node's
 *   memory and CPU limits stay its own (nodes never share a cgroup at once).
 * - A container that misbehaves — its runner lost (over memory, killed), past a
 *   call deadline, a failed reset or ping — is removed (`docker rm -f`) and never
 *   lent again; a replacement is started ahead when its class has no idle one.
 * - Idle containers are removed after `idleTimeoutMs`, and beyond `maxIdlePerClass`.
 */
import { randomBytes } from 'node:crypto';
import { RemoteMediaError } from '../web/core/internal.ts';
import { PythonProcess } from './python-process.ts';
import { OP_CANCEL } from './runner-pipe.ts';

/** What is fixed when a container starts: containers are pooled by it. */
export interface ContainerClass {
  image: string;
  memoryMb: number;
  cpus: number;
}

export interface ContainerPoolOptions {
  docker: string;
  env: NodeJS.ProcessEnv;
  /** Runs one docker command (the executor's, with its engine address). */
  run(args: string[]): Promise<{ stdout: string }>;
  /** An idle container is removed after this long. 0: none is kept (one per node). */
  idleTimeoutMs: number;
  /** Idle containers kept per class at most. */
  maxIdlePerClass: number;
  callTimeoutMs: number;
  allowPickle: boolean;
  /** Told when a runner dies (or is killed) under a node: for logs and metrics. */
  onWorkerLost(error: RemoteMediaError): void;
}

/** The uid of the nodes' runners, and the one of each container's keeper (PID 1). */
const NODE_USER = '65534:65534';
const KEEPER_USER = '65533:65533';

/** PID 1: does nothing, forever, until `docker rm -f`. */
const KEEPER = 'import signal\nwhile True: signal.pause()';

/**
 * Every runner starts with this: it kills every process of the nodes' uid but
 * itself (what an earlier node left running), empties the writable places, then
 * becomes the node runner — one `docker exec` and one interpreter start per lending.
 */
const RESET_THEN_RUN = `
import os, shutil, signal, sys
me = os.getpid()
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) not in (1, me):
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
for top in ("/tmp", "/dev/shm"):
    for entry in os.listdir(top) if os.path.isdir(top) else []:
        path = os.path.join(top, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
os.execv(sys.executable, [sys.executable, "-m", "remotemedia.node_runner"])
`;

export class PooledContainer {
  /** Runners lent out of it now (0 or 1). */
  refs = 0;
  /** Nodes it has served. */
  lent = 0;
  /** Misbehaved: removed, never lent again. */
  broken = false;
  /** The runner started ahead for the next node, pinged. */
  spare: PythonProcess | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  constructor(
    readonly name: string,
    readonly key: string,
    readonly resources: ContainerClass,
  ) {}
}

export interface ContainerPoolStats {
  /** Containers started (docker run). */
  started: number;
  /** Nodes given an idle container's runner: no container started for them. */
  warmStarts: number;
  /** Nodes that had to wait for a container to start. */
  coldStarts: number;
  /** Containers removed: idle past the timeout, misbehaved, or at close. */
  removed: number;
  /** Of those, removed because they misbehaved (lost runner, deadline, failed reset or ping). */
  removedBroken: number;
}

export class ContainerPool {
  readonly stats: ContainerPoolStats = {
    started: 0,
    warmStarts: 0,
    coldStarts: 0,
    removed: 0,
    removedBroken: 0,
  };
  private readonly idle = new Map<string, PooledContainer[]>();
  private readonly lentOut = new Map<PythonProcess, PooledContainer>();
  private readonly all = new Set<PooledContainer>();
  /** Per class: containers being reset or started ahead, soon idle (a node waits for one). */
  private readonly coming = new Map<string, Set<Promise<void>>>();
  /** Resets, replacements and health checks under way (close waits for them). */
  private readonly chores = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: ContainerPoolOptions) {}

  /** Idle containers now, every class together. */
  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Idle containers of one class now. */
  idleIn(resources: ContainerClass): number {
    return this.idle.get(classKey(resources))?.length ?? 0;
  }

  /** Containers lent to a node now, by name. */
  get inUse(): ReadonlyMap<string, PythonProcess> {
    return new Map([...this.lentOut].map(([process, c]) => [c.name, process]));
  }

  /** The container a node's runner lives in (for tests and logs). */
  containerOf(process: PythonProcess): PooledContainer | undefined {
    return this.lentOut.get(process);
  }

  /** A runner for a node: an idle container's when its class has one, else a new container's. */
  async acquire(nodeId: string, resources: ContainerClass): Promise<PythonProcess> {
    const key = classKey(resources);
    // One being reset (~0.2 s) beats a new one (~0.5 s and more): wait for it.
    for (;;) {
      if (this.idle.get(key)?.length) break;
      const soon = this.coming.get(key);
      if (!soon || soon.size === 0) break;
      await Promise.race(soon);
    }
    const list = this.idle.get(key) ?? [];
    while (list.length > 0) {
      const container = list.pop()!;
      clearTimeout(container.idleTimer);
      const spare = container.spare;
      container.spare = undefined;
      if (spare && !container.broken && (await this.ping(spare))) {
        this.stats.warmStarts++;
        return this.lend(container, spare, nodeId);
      }
      this.remove(container, true);
    }
    this.stats.coldStarts++;
    const container = await this.start(resources);
    // No ping here: the node's own first request (create) is its check, and a
    // runner's start-up on a loaded machine must not count against a call deadline.
    return this.lend(container, this.runner(container), nodeId);
  }

  /** The node is done with its runner (after its clean-up): reset and keep, or remove. */
  release(process: PythonProcess): void {
    const container = this.lentOut.get(process);
    if (!container) return;
    this.lentOut.delete(process);
    container.refs--;
    if (container.broken || this.closed || this.options.idleTimeoutMs === 0) {
      this.remove(container, container.broken);
      return;
    }
    this.soon(container.key, this.recycle(container));
  }

  private soon(key: string, work: Promise<void>): void {
    const set = this.coming.get(key) ?? new Set<Promise<void>>();
    this.coming.set(key, set);
    set.add(work);
    void work.finally(() => set.delete(work));
    this.chore(work);
  }

  /** Removes every container of the pool. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.chores]);
    const names = [...this.all].map((c) => c.name);
    for (const container of this.all) {
      clearTimeout(container.idleTimer);
      container.spare?.kill();
    }
    this.all.clear();
    this.idle.clear();
    this.lentOut.clear();
    this.stats.removed += names.length;
    if (names.length > 0) await this.options.run(['rm', '-f', ...names]).catch(() => {});
  }

  private lend(container: PooledContainer, runner: PythonProcess, nodeId: string): PythonProcess {
    container.refs++;
    container.lent++;
    runner.nodeId = nodeId;
    this.lentOut.set(runner, container);
    return runner;
  }

  private async start(resources: ContainerClass): Promise<PooledContainer> {
    const name = `remotemedia-pool-${randomBytes(6).toString('hex')}`;
    const container = new PooledContainer(name, classKey(resources), resources);
    await this.options.run([
      'run',
      '-d',
      '--rm',
      '--name',
      name,
      '--network',
      'none',
      `--memory=${resources.memoryMb}m`,
      // No swap beyond the limit: over it, the kernel ends the runner.
      `--memory-swap=${resources.memoryMb}m`,
      `--cpus=${resources.cpus}`,
      '--pids-limit=256',
      '--read-only',
      '--tmpfs=/tmp:size=64m,mode=1777',
      '--cap-drop=ALL',
      '--security-opt=no-new-privileges',
      `--user=${KEEPER_USER}`,
      resources.image,
      'python3',
      '-c',
      KEEPER,
    ]);
    this.stats.started++;
    this.all.add(container);
    return container;
  }

  /** A fresh node runner inside `container`, spoken to over the exec's stdin/stdout. */
  private runner(container: PooledContainer): PythonProcess {
    const { name } = container;
    const memoryMb = container.resources.memoryMb;
    const runner = new PythonProcess({
      file: this.options.docker,
      args: [
        'exec',
        '-i',
        `--user=${NODE_USER}`,
        '--env=PYTHONDONTWRITEBYTECODE=1',
        ...(this.options.allowPickle ? ['--env=REMOTEMEDIA_ALLOW_PICKLE=1'] : []),
        name,
        'python3',
        '-c',
        RESET_THEN_RUN,
      ],
      env: this.options.env as Record<string, string>,
      callTimeoutMs: this.options.callTimeoutMs,
      label: `the container ${name}`,
      explainExit: (code) =>
        code === 137
          ? `code 137: killed, which for a running node means it went over its memory limit of ${memoryMb} MiB (or its container was killed)`
          : code === 125 || code === 126
            ? `code ${code}: docker could not run the node runner in it`
            : undefined,
      // Past a deadline or a protocol violation: the container goes with its runner.
      onKill: () => this.remove(container, true),
    });
    runner.onWorkerLost = (error) => {
      container.broken = true;
      this.options.onWorkerLost(error);
    };
    return runner;
  }

  /** A health check through the runner protocol: a cancel of nothing answers {"cancelled": 0}. */
  private async ping(runner: PythonProcess): Promise<boolean> {
    if (!runner.alive) return false;
    try {
      const [report] = await runner.request(OP_CANCEL);
      const answer = JSON.parse(new TextDecoder().decode(report)) as { cancelled?: unknown };
      return answer.cancelled === 0;
    } catch {
      runner.kill();
      return false;
    }
  }

  /** Back to the pool: a new runner (which resets the container first), pinged, then idle. */
  private async recycle(container: PooledContainer): Promise<void> {
    if (this.closed || container.broken) return this.remove(container, container.broken);
    const spare = this.runner(container);
    if (!(await this.ping(spare))) return this.remove(container, true);
    this.park(container, spare);
  }

  private park(container: PooledContainer, spare: PythonProcess): void {
    const list = this.idle.get(container.key) ?? [];
    if (this.closed || list.length >= this.options.maxIdlePerClass) {
      spare.kill();
      return this.remove(container, false);
    }
    container.spare = spare;
    list.push(container);
    this.idle.set(container.key, list);
    container.idleTimer = setTimeout(() => {
      const at = list.indexOf(container);
      if (at >= 0) list.splice(at, 1);
      container.spare?.kill();
      this.remove(container, false);
    }, this.options.idleTimeoutMs);
    container.idleTimer.unref();
  }

  /** Removed from the engine and the pool, never lent again. */
  private remove(container: PooledContainer, broken: boolean): void {
    if (!this.all.delete(container)) return;
    container.broken ||= broken;
    clearTimeout(container.idleTimer);
    container.spare?.kill();
    container.spare = undefined;
    const list = this.idle.get(container.key);
    if (list?.includes(container)) list.splice(list.indexOf(container), 1);
    this.stats.removed++;
    if (broken) this.stats.removedBroken++;
    this.chore(this.options.run(['rm', '-f', container.name]).catch(() => {}));
    // A misbehaving container is replaced ahead, so the next node of its class starts warm.
    if (broken && !this.closed && this.options.idleTimeoutMs > 0 && !list?.length) {
      this.soon(container.key, this.replace(container.resources));
    }
  }

  private async replace(resources: ContainerClass): Promise<void> {
    try {
      const container = await this.start(resources);
      if (this.closed) return this.remove(container, false);
      const spare = this.runner(container);
      if (await this.ping(spare)) this.park(container, spare);
      else this.remove(container, false);
    } catch {
      // The engine may be gone: the next node starts its own and reports why.
    }
  }

  private chore(work: Promise<unknown>): void {
    this.chores.add(work);
    void work.finally(() => this.chores.delete(work));
  }
}

function classKey(resources: ContainerClass): string {
  return JSON.stringify([resources.image, resources.memoryMb, resources.cpus]);
}

/**
 * The gateway's CPython executor: each PythonNode instance gets its own python3
 * process running `remotemedia.node_runner`, spoken to over pipes of the protocol's
 * own (fds 3 and 4; see that module for the protocol), so a node's stdout is only a
 * log. A pool keeps spare processes started so a new node does not wait for the
 * interpreter. A process that dies, overruns its call deadline or breaks the pipe
 * protocol (it is killed: runner-pipe.ts parses what it writes, trusting nothing)
 * fails its session with a `worker_lost` error that says so; it is never reused, and
 * the pool starts a replacement. The container executor runs the same runner through
 * `docker run -i` (container-executor.ts), over stdin/stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import {
  decodeFrame,
  defineNode,
  encodeFrame,
  type NodeContext,
  NodeExecutionError,
  type NodeInstance,
  type NodeOutput,
  RemoteMediaError,
  type RuntimeData,
} from '../web/core/internal.ts';
import type { PythonClassNodeType } from '../web/core/nodes/speech/speech-nodes.ts';
import { pythonNodeParams } from '../web/python/python-node-params.ts';
import { limitError } from './gateway-limits.ts';
import { type SandboxOptions, sandboxedCommand } from './python-sandbox.ts';
import { RunnerCall } from './runner-call.ts';
import {
  OP_CANCEL,
  OP_CLEANUP,
  OP_CREATE,
  OP_FLUSH,
  OP_PROCESS,
  PipeProtocolError,
  type PythonErrorReport,
  ResponseReader,
  STATUS_MORE,
  STATUS_OK,
} from './runner-pipe.ts';

/** python-packages/, found from this file both in the checkout and compiled (dist/remote-gateway/). */
const PACKAGES = pythonPackagesDir(dirname(fileURLToPath(import.meta.url)));

function pythonPackagesDir(here: string): string {
  const candidates = [
    join(here, '..', 'python-packages'),
    join(here, '..', '..', 'python-packages'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'remotemedia'))) ?? candidates[0]!;
}

export interface PythonExecutorOptions {
  /** The interpreter; Debian's by default, whose packages the set-up installs. */
  python?: string;
  /** Address-space limit of each process (RLIMIT_AS). Default 1 GiB. */
  memoryLimitBytes?: number;
  /** A call running longer kills its process and fails its session. Default 30 s. */
  callTimeoutMs?: number;
  /** Spare processes kept started. Default 2. */
  spares?: number;
  /** Unpickle Python objects sent by authenticated clients. Default false. */
  allowPickle?: boolean;
  /** CPython processes running at once, spares included (an operator's ceiling). Default 64. */
  maxProcesses?: number;
  /**
   * A ceiling shared with other pools (the gateway's trusted and sandboxed pools
   * count against one maxPythonProcesses); it replaces maxProcesses.
   */
  ceiling?: ProcessCeiling;
  /** Told when a process dies (or is killed) under a node: for logs and metrics. */
  onWorkerLost?: (error: RemoteMediaError) => void;
  /**
   * Folders searched for Python modules after the remotemedia package (PYTHONPATH),
   * so that a PythonNode `class` may name a class of the user's own module. Each
   * must be an existing folder. Default none.
   */
  pythonPath?: readonly string[];
}

/** How to start one node runner, and how to word its end. */
export interface RunnerCommand {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  callTimeoutMs: number;
  /** Names the process in messages: "the Python process", "the container". */
  label: string;
  /** Why it exited, when the exit itself says more (a container's OOM kill). */
  explainExit?(code: number | null, signal: NodeJS.Signals | null): string | undefined;
  /** Extra clean-up after a kill (a container outlives its docker client). */
  onKill?(): void;
  /**
   * Where the protocol runs. 'fds' (a local process): over fds 3 (requests) and 4
   * (responses) of its own, passed with RUNNER_FDS_ARGS, so the node's stdout is
   * nothing but a log. 'stdio' (`docker run -i`, which carries only stdin/stdout):
   * over stdin/stdout, which the runner moves to private fds before any node code
   * runs (node_runner.py). Default 'stdio'.
   */
  pipe?: 'fds' | 'stdio';
  /** Largest item of a response (an output frame). Default 64 MiB. */
  maxItemBytes?: number;
}

/** The runner's arguments that give the protocol fds 3 and 4 (RunnerCommand.pipe 'fds'). */
export const RUNNER_FDS_ARGS = ['--fds', '3,4'] as const;

interface Pending {
  op: number;
  /** Items of a `more` response (a streaming call); not called once cancelled. */
  more: ((frames: Uint8Array[]) => void) | undefined;
  /** Set by cancel(): the call's later items are dropped and it resolves empty. */
  cancelled: boolean;
  /** A `more` response is progress: the call's deadline starts again. */
  rearm(): void;
  /** Responses are not read for now (back-pressure): no deadline runs meanwhile. */
  hold(): void;
  resolve(frames: Uint8Array[]): void;
  reject(error: unknown): void;
}

export class PythonProcess {
  private readonly child: ChildProcess;
  private readonly requests: Writable;
  private readonly responses: Readable;
  /** Responses are not read: a streaming call's consumer is behind (pauseResponses). */
  private paused = false;
  private readonly reader: ResponseReader;
  private readonly queue: Pending[] = [];
  private exited: RemoteMediaError | undefined;
  private stderr = '';
  /** The node id, once a node was created in it; for error messages. */
  nodeId = '?';
  /** Told when the process ends unexpectedly (the node's session must fail). */
  onLost: ((error: RemoteMediaError) => void) | undefined;
  /** Told too, for the operator's logs and metrics (set by the pool or executor). */
  onWorkerLost: ((error: RemoteMediaError) => void) | undefined;

  constructor(private readonly command: RunnerCommand) {
    const fds = command.pipe === 'fds';
    this.child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: fds ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    const maxItemBytes = command.maxItemBytes ?? 64 << 20;
    this.reader = new ResponseReader({
      maxItemBytes,
      maxResponseBytes: 4 * maxItemBytes,
      maxItems: 100_000,
    });
    this.requests = (fds ? this.child.stdio[3] : this.child.stdin) as Writable;
    const responses = (fds ? this.child.stdio[4] : this.child.stdout) as Readable;
    this.responses = responses;
    responses.on('data', (chunk: Buffer) => this.onData(chunk));
    responses.on('error', () => {}); // a dead process is reported by 'exit'
    // Keep the end of the node's log (stderr, and stdout where it is not the protocol):
    // the last lines explain a crash.
    const log = (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-2000);
    };
    this.child.stderr!.on('data', log);
    if (fds) this.child.stdout!.on('data', log);
    // A stream 'error' without a listener would be thrown: the exit says what happened.
    this.child.stderr!.on('error', () => {});
    this.child.stdout?.on('error', () => {});
    this.child.on('error', (error) =>
      this.fail(`could not start ${command.file}: ${error.message}`),
    );
    this.child.on('exit', (code, signal) =>
      this.fail(
        `${command.label} for node '${this.nodeId}' exited (${
          command.explainExit?.(code, signal) ?? (signal ? `signal ${signal}` : `code ${code}`)
        })` +
          (this.stderr.trim() ? `: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''),
      ),
    );
    this.requests.on('error', () => {}); // a dead process is reported by 'exit'
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Told of each cancel the runner answered, with the calls it stopped (the pool's counters). */
  onCancelled: ((stopped: number) => void) | undefined;

  /**
   * One request; requests are answered in order. A streaming call's items reach
   * `more` as they arrive (the promise then resolves with the final, usually empty, rest).
   */
  request(
    op: number,
    payload: Uint8Array = new Uint8Array(0),
    more?: (frames: Uint8Array[]) => void,
  ): Promise<Uint8Array[]> {
    if (this.exited) return Promise.reject(this.exited);
    const head = Buffer.alloc(5);
    head.writeUInt8(op, 0);
    head.writeUInt32LE(payload.length, 1);
    this.requests.write(head);
    if (payload.length > 0) this.requests.write(payload);
    return new Promise<Uint8Array[]>((resolve, reject) => {
      const overran = () => {
        this.fail(
          `node '${this.nodeId}' overran its ${this.command.callTimeoutMs} ms call deadline; ${this.command.label} was killed`,
        );
        this.kill();
      };
      // While responses are not read, no answer can come: the deadline starts on resume.
      let timer = this.paused ? undefined : setTimeout(overran, this.command.callTimeoutMs);
      this.queue.push({
        op,
        more,
        cancelled: false,
        rearm: () => {
          clearTimeout(timer);
          timer = setTimeout(overran, this.command.callTimeoutMs);
        },
        hold: () => {
          clearTimeout(timer);
          timer = undefined;
        },
        resolve: (frames) => {
          clearTimeout(timer);
          resolve(frames);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /**
   * Stops every call sent and not yet answered (barge-in): their later items are
   * dropped here at once, and the runner stops them (node_runner.py: the node's
   * interrupt() runs, a generator ends before its next item). Resolves when the
   * runner has answered, with how many calls it stopped; a dead process stops nothing.
   */
  async cancel(): Promise<number> {
    let any = false;
    for (const pending of this.queue) {
      // A call already cancelled has its cancel on the way: an interrupt flood during
      // one call must not queue a runner cancel (and a hook call there) per interrupt.
      if ((pending.op !== OP_PROCESS && pending.op !== OP_FLUSH) || pending.cancelled) continue;
      pending.cancelled = true;
      any = true;
    }
    if (!any || this.exited) return 0;
    const [report] = await this.request(OP_CANCEL);
    const stopped = cancelReport(report);
    this.onCancelled?.(stopped);
    return stopped;
  }

  /**
   * Stops reading responses: the consumer of a streaming call is behind (RunnerCall's
   * high water), so the runner blocks on its write instead of the gateway buffering
   * without bound. Call deadlines wait meanwhile (a slow client is not a stuck node).
   */
  pauseResponses(): void {
    if (this.paused || this.exited) return;
    this.paused = true;
    this.responses.pause();
    for (const pending of this.queue) pending.hold();
  }

  resumeResponses(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const pending of this.queue) pending.rearm();
    this.responses.resume();
  }

  kill(): void {
    this.child.kill('SIGKILL');
    this.command.onKill?.();
  }

  private fail(message: string): void {
    if (this.exited) return;
    this.exited = new RemoteMediaError('worker_lost', message, { nodeId: this.nodeId });
    for (const pending of this.queue.splice(0)) pending.reject(this.exited);
    // Only a death under a node counts: a process exits by itself after its clean-up.
    if (this.onLost) this.onWorkerLost?.(this.exited);
    this.onLost?.(this.exited);
  }

  /**
   * Responses, parsed defensively: whatever the worker writes, this never throws. A
   * worker that breaks the protocol is killed at once and its session fails.
   */
  private onData(chunk: Buffer): void {
    if (this.exited) return;
    try {
      for (const response of this.reader.push(chunk)) {
        if (response.status === STATUS_MORE) {
          const pending = this.queue[0];
          if (!pending?.more) throw new PipeProtocolError('a "more" response to no streaming call');
          pending.rearm();
          if (!pending.cancelled) pending.more(response.items);
          continue;
        }
        const pending = this.queue.shift();
        if (!pending) throw new PipeProtocolError('a response to no request');
        if (response.status === STATUS_OK) pending.resolve(pending.cancelled ? [] : response.items);
        else pending.reject(pythonError(this.nodeId, response.report));
      }
    } catch (error) {
      const reason = error instanceof PipeProtocolError ? error.message : String(error);
      this.fail(
        `${this.command.label} for node '${this.nodeId}' was killed: protocol violation (${reason})`,
      );
      this.kill();
    }
  }
}

/** The runner's answer to a cancel: {"cancelled": n}. */
function cancelReport(item: Uint8Array | undefined): number {
  let report: unknown;
  try {
    report = item && JSON.parse(new TextDecoder().decode(item));
  } catch {
    report = undefined;
  }
  const stopped = (report as { cancelled?: unknown } | undefined)?.cancelled;
  if (typeof stopped !== 'number' || !Number.isInteger(stopped) || stopped < 0) {
    throw new PipeProtocolError('a cancel answered without {"cancelled": n}');
  }
  return stopped;
}

function pythonError(nodeId: string, report: PythonErrorReport): NodeExecutionError {
  return new NodeExecutionError(
    nodeId,
    report,
    `Node '${nodeId}' failed: ${report.traceback.trimEnd() || `${report.type}: ${report.message}`}`,
  );
}

/** A pythonPath entry as an absolute folder, or a `usage` error naming it. */
function checkedPythonPath(entry: string): string {
  const path = resolve(entry);
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    // missing: said below
  }
  if (!folder || entry.includes(':')) {
    throw new RemoteMediaError(
      'usage',
      `pythonPath entry '${entry}' is not a folder (give folders that hold Python modules, without ':')`,
    );
  }
  return path;
}

/**
 * One ceiling over several pools' processes. A pool with no room may take the room
 * of another pool's spare (a spare is a process started ahead, worth less than a
 * node waiting now).
 */
export class ProcessCeiling {
  private readonly pools = new Set<PythonPool>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RemoteMediaError('usage', `maxProcesses must be a positive integer, not ${max}`);
    }
  }

  join(pool: PythonPool): void {
    this.pools.add(pool);
  }

  leave(pool: PythonPool): void {
    this.pools.delete(pool);
  }

  get used(): number {
    let used = 0;
    for (const pool of this.pools) used += pool.running.length;
    return used;
  }

  /** Stops one spare of a pool other than `wanting`; whether there was one. */
  reclaimSpare(wanting: PythonPool): boolean {
    for (const pool of this.pools) if (pool !== wanting && pool.dropSpare()) return true;
    return false;
  }
}

/** Started python3 processes waiting for a node; taking one starts its replacement. */
export class PythonPool {
  private readonly options: Required<Omit<PythonExecutorOptions, 'ceiling'>>;
  private readonly ceiling: ProcessCeiling;
  private readonly command: RunnerCommand;
  private readonly spares: PythonProcess[] = [];
  private readonly live = new Set<PythonProcess>();
  private closed = false;
  /** Cancels (barge-in) its runners answered, and the calls they stopped: for tests and metrics. */
  readonly cancels = { answered: 0, callsStopped: 0 };

  /** With `sandbox`, every process runs under bubblewrap (client code: python-sandbox.ts). */
  constructor(options: PythonExecutorOptions = {}, sandbox?: SandboxOptions) {
    this.options = {
      python: options.python ?? '/usr/bin/python3',
      memoryLimitBytes: options.memoryLimitBytes ?? 2 ** 30,
      callTimeoutMs: options.callTimeoutMs ?? 30_000,
      spares: options.spares ?? 2,
      allowPickle: options.allowPickle ?? false,
      maxProcesses: options.maxProcesses ?? 64,
      onWorkerLost: options.onWorkerLost ?? (() => {}),
      pythonPath: (options.pythonPath ?? []).map(checkedPythonPath),
    };
    this.ceiling = options.ceiling ?? new ProcessCeiling(this.options.maxProcesses);
    this.ceiling.join(this);
    const command: RunnerCommand = {
      file: this.options.python,
      args: ['-m', 'remotemedia.node_runner', ...RUNNER_FDS_ARGS],
      pipe: 'fds',
      cwd: PACKAGES,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PYTHONPATH: [PACKAGES, ...this.options.pythonPath].join(':'),
        PYTHONDONTWRITEBYTECODE: '1',
        REMOTEMEDIA_MEMORY_LIMIT_BYTES: String(this.options.memoryLimitBytes),
        ...(this.options.allowPickle ? { REMOTEMEDIA_ALLOW_PICKLE: '1' } : {}),
      },
      callTimeoutMs: this.options.callTimeoutMs,
      label: 'the Python process',
    };
    this.command = sandbox ? sandboxedCommand(command, sandbox) : command;
    this.refill();
  }

  take(): PythonProcess {
    if (this.closed) throw new RemoteMediaError('session_closed', 'the gateway is shutting down');
    let process = this.spares.shift();
    while (process && !process.alive) process = this.spares.shift();
    if (!process) {
      const running = this.ceiling.used;
      if (running >= this.ceiling.max && !this.ceiling.reclaimSpare(this)) {
        throw limitError(
          'maxPythonProcesses',
          running + 1,
          this.ceiling.max,
          'CPython processes in the whole gateway',
        );
      }
      process = this.start();
    }
    process.onWorkerLost = this.options.onWorkerLost;
    process.onCancelled = (stopped) => {
      this.cancels.answered++;
      this.cancels.callsStopped += stopped;
    };
    this.refill();
    return process;
  }

  /** Processes a new node could still take now (spares, or room under the ceiling). */
  get available(): number {
    const spare = this.spares.filter((p) => p.alive).length;
    return spare + Math.max(0, this.ceiling.max - this.ceiling.used);
  }

  /** Stops one spare to free its room under a shared ceiling; whether there was one. */
  dropSpare(): boolean {
    const spare = this.spares.find((p) => p.alive);
    if (!spare) return false;
    this.spares.splice(this.spares.indexOf(spare), 1);
    this.live.delete(spare);
    spare.kill();
    return true;
  }

  /** Processes running now (spares included), for /metrics and tests. */
  get running(): readonly PythonProcess[] {
    return [...this.live].filter((p) => p.alive);
  }

  close(): void {
    this.closed = true;
    this.ceiling.leave(this);
    for (const process of this.live) process.kill();
    this.live.clear();
    this.spares.length = 0;
  }

  private start(): PythonProcess {
    const process = new PythonProcess(this.command);
    this.live.add(process);
    return process;
  }

  private refill(): void {
    while (
      !this.closed &&
      this.spares.filter((p) => p.alive).length < this.options.spares &&
      this.ceiling.used < this.ceiling.max
    ) {
      this.spares.push(this.start());
    }
  }

  /** PythonNode as the gateway runs it: the same params as in the browser, in CPython. */
  nodeDefinition() {
    return pythonNodeOn(this);
  }

  get allowPickle(): boolean {
    return this.options.allowPickle;
  }

  /**
   * A node type served by an operator-shipped Python class (the speech nodes), in
   * this pool's processes: its own params schema, and never client code, so a
   * token needs only the node type.
   */
  classNodeDefinition(declared: PythonClassNodeType) {
    return defineNode({
      type: declared.type,
      description: declared.description,
      params: declared.params,
      accepts: declared.accepts,
      create: (params, context) =>
        runnerNode({ class: declared.pythonClass, params }, context, {
          start: async () => this.take(),
          done: (process) => this.forget(process),
          allowPickle: false,
        }),
    });
  }

  /** For the node definition: a process taken for a node is done with. */
  forget(process: PythonProcess): void {
    this.live.delete(process);
  }
}

/** PythonNode as the gateway runs it: the same params as in the browser, in CPython. */
function pythonNodeOn(pool: PythonPool) {
  return defineNode({
    type: 'PythonNode',
    description: 'Runs a Python Node class (from a module or inline source) in a CPython process.',
    params: pythonNodeParams,
    create: (params, context) =>
      runnerNode(params, context, {
        start: async () => pool.take(),
        done: (process) => pool.forget(process),
        allowPickle: pool.allowPickle,
      }),
  });
}

export type PythonNodeSpec = z.output<typeof pythonNodeParams>;

/**
 * A node whose work is done by a node runner (a CPython process or a container):
 * create on initialize, one request per input, clean-up that ends the runner.
 */
export function runnerNode(
  spec: PythonNodeSpec,
  context: NodeContext,
  runner: {
    start(): Promise<PythonProcess>;
    done(process: PythonProcess): void;
    allowPickle: boolean;
  },
): NodeInstance {
  const { nodeId } = context;
  if (spec.pickle !== undefined && !runner.allowPickle) {
    // Refused before any process sees the bytes: unpickling runs arbitrary code.
    throw new RemoteMediaError(
      'usage',
      `Node '${nodeId}': refused a pickled object: this gateway does not unpickle (its operator can allow it with --allow-pickle)`,
      { nodeId },
    );
  }
  let process: PythonProcess | undefined;
  /** The call in flight, which interrupt() stops. */
  let current: RunnerCall | undefined;
  const decoded = (frames: Uint8Array[]) => frames.map((bytes) => decodeFrame(bytes).data);
  // A plain result comes back as an array; a generator's as an async iterable whose
  // items reach the executor as the runner sends them (time to first chunk).
  const call = (op: number, data?: RuntimeData): Promise<NodeOutput> => {
    const worker = process!;
    const output = new RunnerCall({
      pause: () => worker.pauseResponses(),
      resume: () => worker.resumeResponses(),
    });
    current = output;
    worker
      .request(op, data === undefined ? undefined : encodeFrame({ sequence: 0, data }), (frames) =>
        output.push(
          decoded(frames),
          frames.map((frame) => frame.length),
        ),
      )
      .then(
        (frames) => output.end(decoded(frames)),
        (error) => output.fail(error),
      )
      .finally(() => {
        if (current === output) current = undefined;
      });
    return output.first;
  };
  return {
    async initialize() {
      process = await runner.start();
      process.nodeId = nodeId;
      // A crash between calls still ends the session at once.
      process.onLost = (error) => context.fail?.(error);
      // The session failed or was aborted (its client gone) while a call runs: that
      // call's answer is not wanted, and a node blocked in it would hold its process,
      // and the session's clean-up, until the call deadline. The runner is killed.
      context.signal.addEventListener(
        'abort',
        () => {
          if (!current || !process) return;
          const stuck = process;
          stuck.onLost = undefined; // not a worker lost: the session had ended
          current.stop();
          stuck.kill();
        },
        { once: true },
      );
      await process.request(
        OP_CREATE,
        new TextEncoder().encode(JSON.stringify({ ...spec, name: nodeId })),
      );
    },
    process: (input) => call(OP_PROCESS, input),
    flush: () => call(OP_FLUSH),
    /**
     * Barge-in: the call in flight ends here at once (its queued items dropped) and
     * the runner is told to cancel it; resolves once the runner has answered.
     */
    async interrupt() {
      current?.stop();
      current = undefined;
      if (process?.alive) await process.cancel();
    },
    async cleanup() {
      if (!process) return;
      // A call held back (its consumer gone) lets the runner write again, or it
      // could not read the clean-up.
      current?.stop();
      const done = process;
      process = undefined;
      done.onLost = undefined;
      if (done.alive) await done.request(OP_CLEANUP).catch(() => done.kill());
      runner.done(done);
    },
  };
}

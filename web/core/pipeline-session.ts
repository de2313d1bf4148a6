/**
 * The streaming executor: one task per node, each reading its inbox and writing to
 * the inboxes downstream, with a bounded lane per edge. A PipelineSession is the
 * in-process StreamSession.
 *
 * Lifecycle: start() creates every node instance and runs initialize in
 * topological order; inputs flow until close() ends the input; end of stream
 * travels edge by edge (each node flushes once all its inputs ended); when every
 * node task has ended, cleanup runs once per instance in reverse order. A node
 * error, an abort or a failed initialize ends the session with that error, and
 * every pending call (sendInput, recvOutput, close) rejects with it at once.
 */
import { abortedError, describeCause, NodeExecutionError, RemoteMediaError } from './errors.ts';
import type { PreparedPipeline } from './manifest-validation.ts';
import type { NodeInstance, NodeOutput, ProcessContext } from './node-contract.ts';
import { bargeInOf } from './barge-in.ts';
import { ownedBuffers } from './buffer-slab.ts';
import { BargeInRouter, InterruptGate } from './interrupt-gate.ts';
import { LazyAbort } from './lazy-abort.ts';
import { END_OF_STREAM, NodeInbox } from './node-inbox.ts';
import { NodeMetrics, type NodeMetricsSnapshot } from './node-metrics.ts';
import { SessionOutputQueue } from './session-output-queue.ts';
import {
  assertValidRuntimeData,
  audioDurationSeconds,
  type RuntimeData,
  type RuntimeDataKind,
} from './runtime-data.ts';
import { type SessionOptions, type SessionOutput, type StreamSession } from './transport.ts';

const DEFAULT_QUEUE_CAPACITY = 32;

/**
 * Where a sink's outputs go instead of recvOutput: a channel to another island, for
 * runtimes that split a pipeline across threads. push returns a promise only when it
 * must wait (backpressure); end is called once, when the sink has ended.
 */
export interface SinkPort {
  push(data: RuntimeData): Promise<void> | undefined;
  end(): void;
  /** Called if the session fails, so a push waiting on its consumer can give up. */
  abort?(error: RemoteMediaError): void;
}

export interface PipelineSessionOptions extends SessionOptions {
  /** Sinks whose outputs go to a port, by node id; the others go to recvOutput. */
  sinkPorts?: ReadonlyMap<string, SinkPort>;
  /**
   * Called when `bargeIn.from` triggers here, with the trigger's stamp: a split
   * pipeline's runtime tells its other islands at once, out of band (their in-band
   * copy, same stamp, may wait behind queued data and then does not act again).
   */
  onBargeIn?: (timestampUs: number) => void;
}

/** Where a node's outputs go: one lane of a downstream inbox, or a sink port. */
type Target = SinkPort;

function laneTarget(inbox: NodeInbox<RuntimeData>, lane: number): Target {
  return { push: (item) => inbox.push(lane, item), end: () => inbox.closeLane(lane) };
}

/** The embedder's side of the engine: what it is given owns its buffers (buffer-slab.ts). */
function outputTarget(output: SessionOutputQueue, lane: number): Target {
  return {
    push: (item) => output.push(lane, ownedBuffers(item)),
    end: () => output.endLane(lane),
  };
}

interface NodeTask {
  readonly id: string;
  readonly instance: NodeInstance;
  readonly inbox: NodeInbox<RuntimeData>;
  readonly targets: readonly Target[];
  /** Upstream node id per inbox lane; undefined for the pipeline input lane. */
  readonly laneSources: readonly (string | undefined)[];
  readonly accepts: ReadonlySet<RuntimeDataKind> | undefined;
  readonly metrics: NodeMetrics;
  readonly context: NodeRunContext;
  /** Barge-in state (interrupt-gate.ts). */
  readonly gate: InterruptGate;
  /**
   * Set by send when handing an output on ran code that is not this node's: a
   * barge-in trigger (other nodes' interrupt hooks, the embedder's onBargeIn), an
   * interrupt control. Then the clock read that ended the call cannot start the
   * next one (see runNode): that code's time is not the next call's.
   */
  handOnRanOthers: boolean;
}

type State = 'running' | 'closing' | 'ended' | 'failed';

export class PipelineSession implements StreamSession {
  readonly sessionId: string;
  private readonly tasks: NodeTask[] = [];
  /** The input lane of each source node, by id. */
  private readonly inputTargets = new Map<string, Target>();
  private readonly endedSources = new Set<string>();
  private readonly output: SessionOutputQueue;
  private readonly ports: readonly SinkPort[];
  private readonly bargeIn: BargeInRouter;
  private readonly lifetime: LazyAbort;
  private state: State = 'running';
  private error: RemoteMediaError | undefined;
  private readonly finished: Promise<void>;
  private readonly removeAbortListener: () => void;

  private constructor(
    pipeline: PreparedPipeline,
    instances: Map<string, NodeInstance>,
    contexts: Map<string, NodeRunContext>,
    lifetime: LazyAbort,
    options: PipelineSessionOptions,
  ) {
    this.lifetime = lifetime;
    // Random (122 bits): ids from different workers and gateways do not collide, and
    // one tenant's id says nothing about the next (a gateway shows ids to clients).
    this.sessionId = `session-${crypto.randomUUID()}`;
    const capacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    const { graph, definitions } = pipeline;
    const ports = options.sinkPorts ?? new Map<string, SinkPort>();
    for (const id of ports.keys()) {
      if (!graph.sinks.includes(id)) {
        throw new RemoteMediaError('usage', `sink port for '${id}', which is not a sink node`);
      }
    }
    const sinks = graph.sinks.filter((id) => !ports.has(id));
    this.ports = [...ports.values()];
    this.output = new SessionOutputQueue(sinks, { capacity, settle: () => this.ended() });

    const inboxes = new Map<string, NodeInbox<RuntimeData>>();
    for (const id of graph.order) {
      const upstream = graph.upstream.get(id)!;
      inboxes.set(id, new NodeInbox(Math.max(1, upstream.length), capacity));
    }
    for (const id of graph.sources) this.inputTargets.set(id, laneTarget(inboxes.get(id)!, 0));

    for (const id of graph.order) {
      const downstream = graph.downstream.get(id)!;
      const port = ports.get(id);
      const targets: Target[] =
        downstream.length > 0
          ? downstream.map((next) =>
              laneTarget(inboxes.get(next)!, graph.upstream.get(next)!.indexOf(id)),
            )
          : [port ?? outputTarget(this.output, sinks.indexOf(id))];
      const upstream = graph.upstream.get(id)!;
      const accepts = definitions.get(id)!.accepts;
      const metrics = new NodeMetrics(id);
      const context = contexts.get(id)!;
      const gate = new InterruptGate(
        instances.get(id)!,
        context,
        metrics,
        (cause) => this.fail(new NodeExecutionError(id, cause)),
        bargeInOf(pipeline.manifest)?.staleLimitMs,
      );
      this.tasks.push({
        id,
        instance: instances.get(id)!,
        inbox: inboxes.get(id)!,
        targets,
        laneSources: upstream.length === 0 ? [undefined] : upstream,
        accepts: accepts ? new Set(accepts) : undefined,
        metrics,
        context,
        gate,
        handOnRanOthers: false,
      });
    }
    this.bargeIn = new BargeInRouter(
      bargeInOf(pipeline.manifest),
      new Map(this.tasks.map((t) => [t.id, t.gate])),
      () => this.isActive(),
      options.onBargeIn,
    );

    for (const task of this.tasks) task.context.onFail = (error) => this.fail(error);
    const signal = options.signal;
    const onAbort = () => this.fail(abortedError(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.removeAbortListener = () => signal?.removeEventListener('abort', onAbort);
    this.finished = this.runAll();
  }

  /**
   * Creates and initializes every node, then starts the session. A node that
   * fails to initialize fails the start with its id; nodes already made are cleaned up.
   */
  static async start(
    pipeline: PreparedPipeline,
    options: PipelineSessionOptions = {},
  ): Promise<PipelineSession> {
    if (options.signal?.aborted) throw abortedError(options.signal.reason);
    const instances = new Map<string, NodeInstance>();
    const contexts = new Map<string, NodeRunContext>();
    // Aborted when the session ends early; nodes see it as context.signal from creation on.
    const lifetime = new LazyAbort();
    const onAbort = () => lifetime.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const params = new Map(pipeline.manifest.nodes.map((n) => [n.id, n.params]));
    try {
      for (const id of pipeline.graph.order) {
        const context = new NodeRunContext(id, lifetime);
        contexts.set(id, context);
        try {
          const instance = pipeline.definitions.get(id)!.create(params.get(id), context);
          instances.set(id, instance);
          if (instance.initialize) await untilAborted(instance.initialize(), lifetime);
        } catch (cause) {
          if (cause instanceof RemoteMediaError && cause.kind === 'aborted') throw cause;
          throw new NodeExecutionError(
            id,
            cause,
            `Node '${id}' failed to initialize: ${describeCause(cause)}`,
          );
        }
      }
    } catch (error) {
      await cleanupAll([...instances].reverse());
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    try {
      return new PipelineSession(pipeline, instances, contexts, lifetime, options);
    } catch (error) {
      // A bad option (a sink port for no sink, a queue capacity below 1): the nodes
      // made above must still be cleaned up.
      await cleanupAll([...instances].reverse());
      throw error;
    }
  }

  sendInput(data: RuntimeData): Promise<void> {
    return this.sendTo(this.inputTargets.values(), data);
  }

  /**
   * Sends an input to one source node only (the others do not see it). Runtimes that
   * link islands use it to feed each boundary node from its own channel.
   */
  sendInputTo(sourceId: string, data: RuntimeData): Promise<void> {
    return this.offerInputTo(sourceId, data) ?? Promise.resolve();
  }

  /**
   * sendInputTo for a caller that carries on at once when it can (the gateway, per
   * frame): undefined when the input was queued at once, a promise only when the
   * source's inbox was full (it settles once queued) or to reject.
   */
  offerInputTo(sourceId: string, data: RuntimeData): Promise<void> | undefined {
    const target = this.source(sourceId);
    if (this.endedSources.has(sourceId) && !this.error) {
      return Promise.reject(
        new RemoteMediaError('session_closed', `The input of '${sourceId}' has ended`),
      );
    }
    if (data.kind === 'control' && data.signal === 'end_of_stream') {
      this.endInput(sourceId);
      return undefined;
    }
    return this.offerTo([target], data);
  }

  /** Ends the input of one source node; the session ends once every source's input has. */
  endInput(sourceId: string): void {
    const target = this.source(sourceId);
    if (this.state !== 'running' || this.endedSources.has(sourceId)) return;
    this.endedSources.add(sourceId);
    target.end();
    if (this.endedSources.size === this.inputTargets.size) void this.close().catch(() => {});
  }

  private source(id: string): Target {
    const target = this.inputTargets.get(id);
    if (!target) {
      throw new RemoteMediaError(
        'usage',
        `'${id}' is not a source node of this pipeline; sources: ${[...this.inputTargets.keys()].join(', ')}`,
      );
    }
    return target;
  }

  private sendTo(targets: Iterable<Target>, data: RuntimeData): Promise<void> {
    return this.offerTo(targets, data) ?? Promise.resolve();
  }

  /** sendTo, answering undefined when every target took the input at once. */
  private offerTo(targets: Iterable<Target>, data: RuntimeData): Promise<void> | undefined {
    if (this.error) return Promise.reject(this.error);
    if (this.state !== 'running') {
      return Promise.reject(
        new RemoteMediaError(
          'session_closed',
          `Session ${this.sessionId} is closed: no more input`,
        ),
      );
    }
    try {
      assertValidRuntimeData(data);
    } catch (error) {
      return Promise.reject(error);
    }
    if (data.kind === 'control' && data.signal === 'end_of_stream') return this.close();
    this.bargeIn.input(data);
    return this.deliver(targets, data);
  }

  recvOutput(): Promise<SessionOutput | undefined> {
    return this.output.next();
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionOutput> {
    return this.output[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    if (this.state === 'running') {
      this.state = 'closing';
      // Nobody is obliged to read what is produced after the input ends, so the
      // output may grow instead of holding the pipeline back.
      this.output.unbound();
      for (const [id, target] of this.inputTargets) {
        if (!this.endedSources.has(id)) target.end();
      }
    }
    await this.finished;
    if (this.error) throw this.error;
  }

  /**
   * Resolves once the session has ended on its own (every source's input ended and
   * every node finished), or rejects with its error; unlike close, ends no input.
   */
  async ended(): Promise<void> {
    await this.finished;
    if (this.error) throw this.error;
  }

  isActive(): boolean {
    return this.state === 'running' || this.state === 'closing';
  }

  async metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.tasks.map((t) => t.metrics.snapshot(t.inbox.depth, t.inbox.highWater));
  }

  /**
   * Barge-in from outside, ahead of the frame: as if an interrupt control stamped
   * `timestampUs` entered as input now (interrupt-gate.ts; its in-band copy, when it
   * arrives, does not act again; unstamped, the next unstamped interrupt given as
   * input is its copy). Any thread the session runs on; never waits.
   */
  interrupt(timestampUs?: number): void {
    this.bargeIn.input(
      timestampUs === undefined
        ? { kind: 'control', signal: 'interrupt' }
        : { kind: 'control', signal: 'interrupt', timestampUs },
      true,
    );
  }

  /**
   * Ends the session at once with an `aborted` error (or `reason` itself when it is
   * a RemoteMediaError); pending and later calls reject with it. The AbortSignal
   * option does the same from outside.
   */
  abort(reason?: unknown): void {
    this.fail(abortedError(reason));
  }

  /** Ends the session with `error` unless it already ended. */
  private fail(error: RemoteMediaError): void {
    if (this.state === 'ended' || this.state === 'failed') return;
    this.state = 'failed';
    this.error = error;
    this.lifetime.abort(error);
    for (const task of this.tasks) task.inbox.fail(error);
    this.output.fail(error);
    for (const port of this.ports) port.abort?.(error);
  }

  private async runAll(): Promise<void> {
    await Promise.all(this.tasks.map((task) => this.runNode(task)));
    const cleanupError = await cleanupAll(
      this.tasks.map((t): [string, NodeInstance] => [t.id, t.instance]).reverse(),
    );
    this.removeAbortListener();
    if (cleanupError && !this.error) {
      this.fail(new NodeExecutionError(cleanupError.id, cleanupError.cause));
    }
    if (this.state !== 'failed') this.state = 'ended';
  }

  private async runNode(task: NodeTask): Promise<void> {
    const { inbox, metrics, context, instance } = task;
    // The clock read at the end of the last call, while this loop has not waited
    // or done anything but hand that call's output on since (NaN otherwise): then
    // it is also the next call's start, and a node that streams (its next input
    // already queued) costs one clock read per call, not two (performance.now()
    // takes 0.25-1 µs in Chromium; see NodeMetricsSnapshot.processingMs).
    let mark = Number.NaN;
    try {
      for (;;) {
        let item = inbox.take();
        if (item instanceof Promise) {
          mark = Number.NaN;
          item = await item;
        }
        if (item === END_OF_STREAM) break;
        context.from = task.laneSources[inbox.lastLane];
        metrics.itemsIn++;
        if (!task.gate.admit(item)) {
          mark = Number.NaN;
          continue; // older than an interrupt: stale
        }
        if (item.kind === 'control') {
          mark = Number.NaN;
          if (item.signal === 'flush') await this.flushNode(task);
          const forwarded = this.send(task, item);
          if (forwarded) await forwarded;
          continue;
        }
        if (task.accepts && !task.accepts.has(item.kind)) {
          mark = Number.NaN;
          if (item.kind === 'event') {
            const forwarded = this.send(task, item);
            if (forwarded) await forwarded;
            continue;
          }
          throw new RemoteMediaError(
            'invalid_data',
            `expects ${[...task.accepts].join(' or ')} input, received ${item.kind}`,
            { nodeId: task.id },
          );
        }
        if (item.kind === 'audio') metrics.audioSeconds += audioDurationSeconds(item);
        const started = Number.isNaN(mark) ? performance.now() : mark;
        const epoch = task.gate.epoch;
        let result = instance.process(item, context);
        if (result instanceof Promise) result = await result;
        const ended = performance.now();
        metrics.recordProcessing(ended - started);
        const output = result as NodeOutput;
        task.handOnRanOthers = false;
        const emitted = this.emit(task, output, epoch);
        // Shared only after outputs emit() hands on without timing them itself
        // (none, one item, an array): an iterable's production is added to this
        // call's record (addToLast) and must not count toward the next call too;
        // nor after a hand-on that ran other nodes' code (a barge-in trigger: their
        // interrupt hooks; attack-pipeline-clock.test.ts).
        mark = emitted || task.handOnRanOthers || !handsOnUntimed(output) ? Number.NaN : ended;
        if (emitted) await emitted;
      }
      context.from = undefined;
      await this.flushNode(task);
      for (const target of task.targets) target.end();
    } catch (cause) {
      this.fail(
        cause instanceof RemoteMediaError &&
          (cause.kind === 'aborted' || cause.kind === 'node_failed')
          ? cause
          : new NodeExecutionError(task.id, cause),
      );
    }
  }

  private async flushNode(task: NodeTask): Promise<void> {
    if (!task.instance.flush) return;
    const started = performance.now();
    const epoch = task.gate.epoch;
    const result = await task.instance.flush(task.context);
    task.metrics.recordProcessing(performance.now() - started);
    const emitted = this.emit(task, result, epoch);
    if (emitted) await emitted;
  }

  /**
   * Sends a node's output downstream; returns a promise only when it had to wait.
   * `epoch` is the node's interrupt count when the call began: output of a call an
   * interrupt overtook is dropped.
   */
  private emit(task: NodeTask, output: NodeOutput, epoch: number): Promise<void> | undefined {
    if (output === undefined || output === null) return undefined;
    if ('kind' in output) {
      task.metrics.itemsOut++;
      return this.send(task, output, epoch);
    }
    if (Array.isArray(output)) return this.emitArray(task, output, epoch);
    if (Symbol.asyncIterator in output) return this.emitAsync(task, output, epoch);
    const started = performance.now();
    const items = [...(output as Iterable<RuntimeData>)];
    task.metrics.addToLast(performance.now() - started);
    return this.emitArray(task, items, epoch);
  }

  private emitArray(
    task: NodeTask,
    items: readonly RuntimeData[],
    epoch: number,
  ): Promise<void> | undefined {
    for (let i = 0; i < items.length; i++) {
      task.metrics.itemsOut++;
      const waiting = this.send(task, items[i]!, epoch);
      if (waiting) return waiting.then(() => this.emitArray(task, items.slice(i + 1), epoch));
    }
    return undefined;
  }

  /** Streams a node's async output; time spent producing items counts as processing. */
  private async emitAsync(
    task: NodeTask,
    output: AsyncIterable<RuntimeData>,
    epoch: number,
  ): Promise<void> {
    const iterator = output[Symbol.asyncIterator]();
    for (;;) {
      const started = performance.now();
      const next = await iterator.next();
      task.metrics.addToLast(performance.now() - started);
      if (next.done) return;
      if (!task.gate.current(epoch)) {
        // Interrupted: the rest of this stream is stale; let the node stop making it.
        await iterator.return?.();
        return;
      }
      task.metrics.itemsOut++;
      const waiting = this.send(task, next.value, epoch);
      if (waiting) await waiting;
    }
  }

  /**
   * Delivers one item a node emitted — none when an interrupt made it stale — and,
   * behind a barge-in trigger, the interrupt control (interrupt-gate.ts).
   */
  private send(
    task: NodeTask,
    item: RuntimeData,
    epoch = task.gate.epoch,
  ): Promise<void> | undefined {
    if (!task.gate.current(epoch)) return undefined;
    const routed = this.bargeIn.emitted(task.id, item);
    // A trigger ran interrupt hooks (a stamped interrupt control answers undefined).
    if (routed !== undefined || item.kind === 'control') task.handOnRanOthers = true;
    const [first, marker] = routed ?? [item];
    const waiting = this.deliver(task.targets, first!);
    if (!marker) return waiting;
    if (!waiting) return this.deliver(task.targets, marker);
    return waiting.then(() => this.deliver(task.targets, marker));
  }

  /** Pushes one item to every target; returns a promise only when a target was full. */
  private deliver(targets: Iterable<Target>, item: RuntimeData): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const target of targets) {
      const waiting = target.push(item);
      if (!waiting) continue;
      waits ??= [];
      waits.push(waiting);
    }
    if (!waits) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }
}

/** Whether emit() hands `output` on with no clock reads of its own: nothing, one item or an array. */
function handsOnUntimed(output: NodeOutput): boolean {
  return output === undefined || output === null || 'kind' in output || Array.isArray(output);
}

/** Runs every cleanup even if some throw; returns the first failure. */
async function cleanupAll(
  instances: readonly [string, NodeInstance][],
): Promise<{ id: string; cause: unknown } | undefined> {
  let first: { id: string; cause: unknown } | undefined;
  for (const [id, instance] of instances) {
    try {
      await instance.cleanup?.();
    } catch (cause) {
      first ??= { id, cause };
    }
  }
  return first;
}

/** One per node for the whole session; `from` changes with each input. */
class NodeRunContext implements ProcessContext {
  from: string | undefined = undefined;
  /** Set once the session runs; before that a failure surfaces through initialize. */
  onFail: ((error: RemoteMediaError) => void) | undefined;

  constructor(
    readonly nodeId: string,
    private readonly lifetime: LazyAbort,
  ) {}

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  fail(error: unknown): void {
    const typed =
      error instanceof RemoteMediaError &&
      (error.kind === 'node_failed' || error.kind === 'worker_lost')
        ? error
        : new NodeExecutionError(this.nodeId, error);
    if (this.onFail) this.onFail(typed);
    else this.lifetime.abort(typed);
  }
}

/** Settles with `work`, or rejects as soon as the session aborts (work keeps running). */
function untilAborted<T>(work: T | Promise<T>, lifetime: LazyAbort): Promise<T> {
  if (!(work instanceof Promise)) return Promise.resolve(work);
  const signal = lifetime.signal;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

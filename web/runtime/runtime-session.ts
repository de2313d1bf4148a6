/**
 * A StreamSession of the browser runtime: the islands of one pipeline, each running
 * where its nodes belong, linked by channels. The caller's inputs enter through one
 * channel per island holding pipeline sources; each pipeline sink sends back
 * through its own channel.
 *
 * Failure: the first island that fails (a node error, a lost worker, an abort) ends
 * the whole session. Every other island is aborted and every channel cancelled, so
 * nothing waits on a side that is gone; once all have settled, the session's error
 * is the root cause (a node's own error before the cancellations it caused).
 */
import {
  abortedError,
  assertValidRuntimeData,
  type NodeMetricsSnapshot,
  type PipelineRunner,
  RemoteMediaError,
  type RuntimeData,
  type SessionOptions,
  type SessionOutput,
  SessionOutputQueue,
  StaleWindow,
  type StreamSession,
} from '../core/internal.ts';
import type { AudioSource } from './audio/audio-source.ts';
import type { RestartedEvent } from './remote/gateway-connection.ts';
import {
  type ChannelEndpoint,
  type ChannelMode,
  type ChannelOptions,
  type ChannelReader,
  type ChannelWriter,
  createChannel,
  openReader,
  openWriter,
} from './channel/channel.ts';
import { ringDoorbellFor } from './channel/ring-channel.ts';
import { type IslandSpec, RunningIsland } from './island.ts';
import { MAIN, PYTHON, type RuntimePlan, WORKER } from './runtime-planner.ts';

/** What a session needs to run an island in some thread. */
export interface IslandRunner {
  /**
   * `onBargeIn`: told when the island's `bargeIn.from` triggers (stamped), if it can.
   * `onRestarted`: told when a remote island was restarted on another gateway.
   */
  start(
    spec: IslandSpec,
    endpoints: ChannelEndpoint[],
    onBargeIn?: (timestampUs: number) => void,
    onRestarted?: (event: RestartedEvent) => void,
  ): Promise<StartedIsland>;
}

export interface StartedIsland {
  /** Settles when the island ends; rejects with its error or when its thread is lost. */
  readonly done: Promise<void>;
  abort(reason: string): void;
  metrics(): Promise<NodeMetricsSnapshot[]>;
  /**
   * Barge-in out of band (an interrupt given as input): the island acts on it now,
   * not when its copy in the channel is read, which may be behind a long call.
   */
  interrupt?(timestampUs: number): void;
}

export interface RuntimeSessionOptions extends RuntimeStreamOptions {
  channels: ChannelMode;
  channel?: ChannelOptions;
}

export interface RuntimeStreamOptions extends SessionOptions {
  /**
   * A live source (microphone, file at real time) as the pipeline's input, instead
   * of sendInput. On isolated pages its ring is read where the source nodes run.
   */
  input?: AudioSource;
  /** The token of the gateway that runs this pipeline's remote nodes (else the runtime's). */
  gatewayToken?: string;
  /**
   * A remote island whose gateway is lost (it died, or its session cannot be
   * resumed) is opened again through the same URL — behind a balancer, on another
   * gateway — and the session carries on with the next frame; each restart is a
   * `restarted` event (RestartedEvent: the frames lost, the nodes reset). Off, such
   * a loss ends the session with a `worker_lost` error naming the gateway. Default:
   * each node's `remote.restart_on_loss`, else false: a restart loses node state and
   * in-flight frames, which only the application can judge acceptable.
   */
  restartOnLoss?: boolean;
  /** Restarts allowed per remote island before a loss ends the session. Default 3. */
  maxRestarts?: number;
  /**
   * With `remote.reconnect`: how long a dropped connection tries to resume before
   * the session is lost (and, with restartOnLoss, restarted). Default 20 000 ms. A
   * browser cannot tell a balancer's 502 from a network blip, so behind nginx this
   * is how long a dead gateway's sessions wait before restarting elsewhere.
   */
  reconnectWindowMs?: number;
  /**
   * A remote island's gateway silent for longer than this (ms) is lost, even while its
   * connection stays open (a paused or hung gateway, which a browser cannot tell from
   * an idle one: it has no WebSocket pings): with restartOnLoss the island restarts
   * elsewhere, else the session ends with `worker_lost`. Gateways send a heartbeat on
   * each quiet quarter of it. 0 turns the check off. Default 8000.
   */
  livenessTimeoutMs?: number;
  /** Told of each restart, as `session.on('restarted')` is; the way to hear of them with run(). */
  onRestarted?: (event: RestartedEvent) => void;
}

let sessionCounter = 0;
/** How long islands get to settle after the session failed, before it reports. */
const SETTLE_GRACE_MS = 2000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class RuntimeSession implements StreamSession {
  readonly sessionId = `runtime-session-${++sessionCounter}`;
  private readonly output: SessionOutputQueue;
  private readonly finished: Promise<void>;
  private error: RemoteMediaError | undefined;
  private state: 'running' | 'closing' | 'ended' = 'running';
  private readonly removeAbortListener: () => void;
  /** The live source that is the input, if any (instead of sendInput). */
  private source: AudioSource | undefined;
  /** The stamp of the last interrupt given as input (see interruptNow). */
  private lastInterruptStamp = 0;
  /** Inputs sent since recvOutput last returned an output: 1 for a caller awaiting its reply (0: draining). */
  private sendsSinceOutput = 0;
  /** Outputs of `bargeIn.to` sinks dropped on interrupt, by sink (see readOutput). */
  private readonly droppedOutputs = new Map<string, number>();

  private constructor(
    private readonly plan: RuntimePlan,
    private readonly islands: readonly StartedIsland[],
    private readonly inputs: readonly ChannelWriter[],
    private readonly outputs: readonly { sink: string; reader: ChannelReader }[],
    options: RuntimeSessionOptions,
    private readonly restartLog: RestartLog,
    /**
     * For each sink in `bargeIn.to`: what it emitted before an interrupt may still be
     * in its channel or the output queue when the interrupt comes; the reader drops it
     * until the sink's interrupt control comes through (or the stale limit passes).
     */
    private readonly staleOutputs: ReadonlyMap<string, StaleWindow>,
  ) {
    this.output = new SessionOutputQueue(
      outputs.map((o) => o.sink),
      {
        capacity: options.queueCapacity,
        settle: async () => {
          await this.finished;
          if (this.error) throw this.error;
        },
      },
    );
    const pumps = outputs.map(({ reader }, lane) => this.pumpOutput(reader, lane));
    this.finished = this.watch([...islands.map((i) => i.done), ...pumps]);
    const signal = options.signal;
    const onAbort = () => this.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.removeAbortListener = () => signal?.removeEventListener('abort', onAbort);
  }

  static async start(
    plan: RuntimePlan,
    runners: ReadonlyMap<string, IslandRunner>,
    options: RuntimeSessionOptions,
  ): Promise<RuntimeSession> {
    if (options.signal?.aborted) throw abortedError(options.signal.reason);
    const { placement } = plan;
    const channels = placement.channels.map(() => createChannel(options.channels, options.channel));
    const source = options.input;
    if (source && placement.inputChannels.length !== 1) {
      throw new RemoteMediaError(
        'usage',
        `a live input feeds the pipeline's source nodes, which must all run in one place; they run in ${placement.inputChannels.length}`,
      );
    }
    // On isolated pages the source nodes read the worklet's ring themselves.
    const direct = source?.ring !== undefined && options.channels === 'rings';
    if (source && direct) {
      const c = placement.inputChannels[0]!;
      channels[c] = {
        ...channels[c]!,
        reader: {
          kind: 'audio-ring',
          buffer: source.ring!,
          sampleRate: source.sampleRate,
          channels: source.channels,
          blockFrames: Math.round(source.sampleRate / 50),
        },
      };
    }
    // Rings into the pipeline worker (its own islands and the remote ones it streams)
    // ring its doorbell, on which it sleeps while frames stream (channel/wake-loop.ts).
    for (const island of placement.islands) {
      if (island.key === MAIN || island.key === PYTHON) continue;
      for (const input of island.inputs) {
        channels[input.channel] = ringDoorbellFor(channels[input.channel]!, WORKER);
      }
    }
    const started: StartedIsland[] = [];
    // From the islands' start on: a restart may come before the session object exists.
    const restartLog = new RestartLog(options.onRestarted);
    const bargeIn = plan.pipeline.manifest.bargeIn;
    const staleOutputs = new Map(
      [...placement.outputChannels.keys()]
        .filter((sink) => bargeIn?.to.includes(sink))
        .map((sink) => [sink, new StaleWindow(bargeIn!.staleLimitMs)]),
    );
    // A trigger in one island interrupts the others' `to` nodes now, out of band.
    const forward = (from: number) => (timestampUs: number) => {
      started.forEach((island, i) => {
        if (i !== from) island.interrupt?.(timestampUs);
      });
      for (const window of staleOutputs.values()) window.open(timestampUs);
    };
    try {
      for (const island of placement.islands) {
        const inputs = island.inputs.map((i) => ({
          endpoint: channels[i.channel]!.reader,
          sources: [...i.sources],
        }));
        const outputs = island.outputs.map((o) => ({
          endpoint: channels[o.channel]!.writer,
          sink: o.sink,
        }));
        const spec: IslandSpec = {
          manifest: island.manifest,
          inputs,
          outputs,
          queueCapacity: options.queueCapacity,
        };
        const endpoints = [...inputs, ...outputs].map((e) => e.endpoint);
        const onBargeIn = island.manifest.bargeIn?.from ? forward(started.length) : undefined;
        // The pipeline's own nodes, not the boundary PassThroughs the island adds.
        const own = new Set(island.nodeIds);
        const onRestarted = (event: RestartedEvent) =>
          restartLog.add({ ...event, nodesReset: event.nodesReset.filter((id) => own.has(id)) });
        started.push(await runners.get(island.key)!.start(spec, endpoints, onBargeIn, onRestarted));
      }
    } catch (error) {
      // Aborted islands cancel their channel ends; the other ends were never opened.
      for (const island of started) {
        island.abort('another island failed to start');
        island.done.catch(() => {}); // its end is this error's business now
      }
      throw error;
    }
    const inputs = direct
      ? []
      : placement.inputChannels.map((c) => openWriter(channels[c]!.writer));
    const outputs = [...placement.outputChannels].map(([sink, c]) => ({
      sink,
      reader: openReader(channels[c]!.reader),
    }));
    const session = new RuntimeSession(
      plan,
      started,
      inputs,
      outputs,
      options,
      restartLog,
      staleOutputs,
    );
    if (source) {
      session.source = source;
      if (!direct) session.relay(source);
    }
    return session;
  }

  /** Without a shared ring, the source's blocks pass through here. */
  private relay(source: AudioSource): void {
    void (async () => {
      const writer = this.inputs[0]!;
      for await (const block of source.blocks()) {
        const waiting = writer.write(block);
        if (waiting) await waiting;
      }
      writer.end();
    })().catch((error: unknown) => {
      if (!this.error) this.fail(error instanceof RemoteMediaError ? error : abortedError(error));
    });
  }

  async sendInput(data: RuntimeData): Promise<void> {
    if (this.error) throw this.error;
    if (this.source) {
      throw new RemoteMediaError(
        'usage',
        `Session ${this.sessionId} takes its input from a live source; stop the source to end it`,
      );
    }
    if (this.state !== 'running') {
      throw new RemoteMediaError(
        'session_closed',
        `Session ${this.sessionId} is closed: no more input`,
      );
    }
    assertValidRuntimeData(data);
    if (data.kind === 'control' && data.signal === 'end_of_stream') return this.close();
    if (data.kind === 'control' && data.signal === 'interrupt') data = this.interruptNow(data);
    this.sendsSinceOutput++;
    try {
      for (const writer of this.inputs) {
        const waiting = writer.write(data);
        if (waiting) await waiting;
      }
    } catch (error) {
      // A cancelled channel means the session is already failing (the root cause
      // wins); any other write error, such as a frame too big for the ring, ends it.
      if (!(error instanceof RemoteMediaError && error.kind === 'aborted')) {
        this.fail(error instanceof RemoteMediaError ? error : abortedError(error));
      }
      await this.finished;
      throw this.error ?? error;
    }
  }

  /**
   * Tells every island of the interrupt now, out of band, and returns the control to
   * send in band too, stamped (if it was not): the stamp names the interrupt, so that
   * its in-band copy does not act a second time (interrupt-gate.ts, BargeInRouter.input).
   */
  private interruptNow(data: RuntimeData): RuntimeData {
    let stamp = data.timestampUs;
    if (stamp === undefined) {
      stamp = Math.max(Math.round(performance.now() * 1000), this.lastInterruptStamp + 1);
      data = { ...data, timestampUs: stamp };
    }
    this.lastInterruptStamp = stamp;
    for (const island of this.islands) island.interrupt?.(stamp);
    for (const window of this.staleOutputs.values()) window.open(stamp);
    return data;
  }

  /** The next output the caller gets: none of a `bargeIn.to` sink's cancelled turn. */
  async recvOutput(): Promise<SessionOutput | undefined> {
    for (;;) {
      // Nothing queued: a ring reader may spin a bounded few µs for the reply first
      // (RingChannelReader.poll), sparing an event-loop wake-up when it comes soon;
      // only for a caller that awaits the reply to its one input since the last
      // output, not one that feeds ahead: there the spin would stall its own
      // feeding (60 s of audio took 133-355 ms with such spins against 76-95 ms
      // without). Not with no input since: that is a caller draining the outputs
      // of inputs sent long before (run() while its feeding waits for room), and
      // its spins were 9 ms of the page's CPU in a 60 s run.
      if (this.output.depth === 0 && this.sendsSinceOutput === 1) {
        for (const o of this.outputs) if (o.reader.poll?.()) break;
      }
      const output = await this.output.next();
      const window = output && this.staleOutputs.get(output.nodeId);
      if (!window || window.admit(output!.data)) {
        this.sendsSinceOutput = 0;
        return output;
      }
      this.droppedOutputs.set(output!.nodeId, (this.droppedOutputs.get(output!.nodeId) ?? 0) + 1);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SessionOutput, void, undefined> {
    for (;;) {
      const output = await this.recvOutput();
      if (output === undefined) return;
      yield output;
    }
  }

  async close(): Promise<void> {
    if (this.state === 'running') {
      this.state = 'closing';
      // Outputs nobody reads must not hold the pipeline back once the input ended.
      this.output.unbound();
      // A live source ends its stream itself, through its ring or its relay.
      if (this.source) await this.source.stop();
      else for (const writer of this.inputs) writer.end();
    }
    await this.finished;
    if (this.error) throw this.error;
  }

  /**
   * Every restart of a remote island on another gateway (with `restartOnLoss`), in
   * order. Frame numbers are per input port of that island (RestartedEvent); for an
   * island whose nodes are the pipeline's sources, frame n is the n-th sendInput.
   */
  get restarts(): readonly RestartedEvent[] {
    return this.restartLog.events;
  }

  /**
   * Told when a remote island was lost with its gateway and restarted on another
   * (restartOnLoss); the session carries on. Called on this thread, in order.
   */
  on(type: 'restarted', listener: (event: RestartedEvent) => void): this {
    if (type !== 'restarted') {
      throw new RemoteMediaError(
        'usage',
        `a runtime session has no '${String(type)}' event; 'restarted' is the one`,
      );
    }
    this.restartLog.on(listener);
    return this;
  }

  /** Resolves once the session has ended, however it ended. */
  whenEnded(): Promise<void> {
    return this.finished;
  }

  isActive(): boolean {
    return this.state !== 'ended';
  }

  /** Ends the session at once; pending and later calls reject with an `aborted` error. */
  abort(reason?: unknown): void {
    this.fail(abortedError(reason));
  }

  /** Metrics of the pipeline's own nodes, from every island. */
  async metrics(): Promise<NodeMetricsSnapshot[]> {
    const all = await Promise.all(
      this.islands.map(async (island, i) => {
        const own = new Set(this.plan.placement.islands[i]!.nodeIds);
        const metrics = await island.metrics().catch(() => []);
        return metrics
          .filter((m) => own.has(m.nodeId))
          .map((m) => {
            // A sink's outputs dropped here, on their way to the caller, count as its own.
            const dropped = this.droppedOutputs.get(m.nodeId);
            return dropped ? { ...m, droppedOnInterrupt: m.droppedOnInterrupt + dropped } : m;
          });
      }),
    );
    return all.flat();
  }

  private fail(error: RemoteMediaError): void {
    if (this.error) return;
    this.error = error;
    this.state = 'ended';
    for (const island of this.islands) island.abort(error.message);
    for (const channel of [...this.inputs, ...this.outputs.map((o) => o.reader)]) channel.cancel();
    this.output.fail(error);
  }

  /**
   * Waits for every island and output; on the first failure ends everything, and
   * gives the rest a short grace to settle (an island stuck where no abort reaches
   * must not keep the caller waiting).
   */
  private async watch(parts: Promise<void>[]): Promise<void> {
    const errors: unknown[] = [];
    let failed: () => void = () => {};
    const firstFailure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const settled = Promise.all(
      parts.map((part) =>
        part.catch((error: unknown) => {
          errors.push(error);
          if (errors.length > 1) return;
          // Stop the rest now; the session's error is chosen once they have settled.
          for (const island of this.islands) island.abort('the session failed');
          for (const channel of [...this.inputs, ...this.outputs.map((o) => o.reader)]) {
            channel.cancel();
          }
          failed();
        }),
      ),
    );
    await Promise.race([
      settled,
      firstFailure.then(() => Promise.race([settled, delay(SETTLE_GRACE_MS)])),
    ]);
    this.removeAbortListener();
    if (errors.length > 0) this.fail(rootCause(errors));
    this.state = 'ended';
  }

  private async pumpOutput(reader: ChannelReader, lane: number): Promise<void> {
    for (;;) {
      const data = await reader.read();
      if (data === undefined) {
        this.output.endLane(lane);
        return;
      }
      const waiting = this.output.push(lane, data);
      if (waiting) await waiting;
    }
  }
}

/** A session's island restarts, kept in order and told to each listener. */
class RestartLog {
  readonly events: RestartedEvent[] = [];
  private readonly listeners: ((event: RestartedEvent) => void)[] = [];

  constructor(first?: (event: RestartedEvent) => void) {
    if (first) this.listeners.push(first);
  }

  add(event: RestartedEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) {
      // A listener's bug is the application's to see, not a reason to stop the others.
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  on(listener: (event: RestartedEvent) => void): void {
    this.listeners.push(listener);
  }
}

/** A node's own failure or a lost worker explains more than the cancellations it caused. */
function rootCause(errors: readonly unknown[]): RemoteMediaError {
  const typed = errors.map((e) =>
    e instanceof RemoteMediaError
      ? e
      : new RemoteMediaError('node_failed', String(e), { cause: e }),
  );
  return typed.find((e) => e.kind !== 'aborted') ?? typed[0]!;
}

/** Runs islands in this thread (executor "main"). */
export function localIslandRunner(runner: PipelineRunner): IslandRunner {
  return {
    async start(spec, _endpoints, onBargeIn) {
      const island = await RunningIsland.start(runner, spec, onBargeIn);
      return {
        done: island.done,
        abort: (reason) => island.abort(new RemoteMediaError('aborted', `Aborted: ${reason}`)),
        metrics: () => island.metrics(),
        interrupt: (timestampUs) => island.interrupt(timestampUs),
      };
    },
  };
}

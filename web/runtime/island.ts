/**
 * One island of a pipeline running in this thread: a session of its sub-manifest,
 * fed from its input channels and writing its sinks into its output channels. The
 * same code runs an island in a pipeline worker and on the page.
 */
import {
  type Manifest,
  type NodeMetricsSnapshot,
  type PipelineRunner,
  type PipelineSession,
  RemoteMediaError,
  type RuntimeData,
  type SinkPort,
} from '../core/internal.ts';
import {
  type ChannelEndpoint,
  type ChannelReader,
  type ChannelWriter,
  NOT_YET,
  openReader,
  openWriter,
} from './channel/channel.ts';

/**
 * Items a pump moves from a channel into a node with no await (its backlog), then
 * it yields so the node works through them: a bound on how many decoded inputs
 * wait ahead of the node's next call (the inbox's capacity bounds it too).
 */
export const PUMP_BATCH = 8;

export interface IslandSpec {
  manifest: Manifest;
  /** Each input channel and the source nodes it feeds. */
  inputs: { endpoint: ChannelEndpoint; sources: string[] }[];
  /** Each output channel and the sink node that writes it. */
  outputs: { endpoint: ChannelEndpoint; sink: string }[];
  queueCapacity?: number;
}

export class RunningIsland {
  /** Settles when the island has ended: resolves on a clean end, rejects with its error. */
  readonly done: Promise<void>;

  private constructor(
    private readonly session: PipelineSession,
    private readonly readers: ChannelReader[],
    private readonly writers: ChannelWriter[],
    inputs: IslandSpec['inputs'],
  ) {
    const pumps = inputs.map((input, i) => this.pump(readers[i]!, input.sources));
    this.done = Promise.all([session.ended(), ...pumps]).then(
      () => undefined,
      async (error: unknown) => {
        session.abort(error);
        this.cancelChannels();
        // A node's own failure can reach a pump (as a cancelled channel) before the
        // session reports it: the session's error, if it has one, is the cause.
        await session.ended();
        throw error;
      },
    );
    // The caller learns of failure through `done`; this keeps it from being unhandled.
    this.done.catch(() => {});
  }

  static async start(
    runner: PipelineRunner,
    spec: IslandSpec,
    onBargeIn?: (timestampUs: number) => void,
  ): Promise<RunningIsland> {
    const writers = spec.outputs.map((o) => openWriter(o.endpoint));
    // Inputs go to nodes only (the embedder gets outputs, through channels or
    // ownedBuffers): decoded into slab slices, not an ArrayBuffer per frame.
    const readers = spec.inputs.map((i) => openReader(i.endpoint, { payloads: 'slab' }));
    const sinkPorts = new Map<string, SinkPort>(
      spec.outputs.map((o, i) => {
        const writer = writers[i]!;
        return [
          o.sink,
          {
            push: (data) => writer.write(data),
            end: () => writer.end(),
            abort: () => writer.cancel(),
          },
        ];
      }),
    );
    let session: PipelineSession;
    try {
      session = await runner.createStreamSession(spec.manifest, {
        sinkPorts,
        queueCapacity: spec.queueCapacity,
        onBargeIn,
      });
    } catch (error) {
      for (const channel of [...readers, ...writers]) channel.cancel();
      throw error;
    }
    return new RunningIsland(session, readers, writers, spec.inputs);
  }

  /** Ends the island at once with `reason`; its channels are cancelled. */
  abort(reason: unknown): void {
    this.session.abort(reason);
    this.cancelChannels();
  }

  metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.session.metrics();
  }

  /**
   * Barge-in out of band: the pumps may be held for seconds behind a node's long
   * call (sendInput back-pressure), so the in-band control would be read only after
   * it; this acts now, and the in-band copy (same stamp) does not act again.
   */
  interrupt(timestampUs?: number): void {
    this.session.interrupt(timestampUs);
  }

  private cancelChannels(): void {
    for (const channel of [...this.readers, ...this.writers]) channel.cancel();
  }

  /**
   * Moves one input channel into its source nodes until the channel ends. Items
   * already in the channel move PUMP_BATCH at a time with no promise or await
   * each (tryRead, offerInputTo), so a node with a backlog takes its inputs back
   * to back (one clock read per call, see PipelineSession.runNode); then the pump
   * yields, and the node works through them before more are decoded. Before it
   * arms a wait for more (in a pipeline worker, a task posted to the wake loop)
   * it lets the node take what it just queued: a reply does not wait behind that.
   */
  private async pump(reader: ChannelReader, sources: readonly string[]): Promise<void> {
    const only = sources.length === 1 ? sources[0]! : undefined;
    let batched = 0;
    /** An input was handed to the node since this pump last yielded. */
    let queued = false;
    for (;;) {
      let data: RuntimeData | undefined | typeof NOT_YET =
        batched < PUMP_BATCH && reader.tryRead ? reader.tryRead() : NOT_YET;
      if (data === NOT_YET && queued) {
        queued = false;
        batched = 0;
        await undefined; // the node's turn (its wake-up was queued first)
        continue;
      }
      if (data === NOT_YET) {
        batched = 0;
        data = await reader.read();
      } else {
        batched++;
      }
      if (data === undefined) {
        for (const id of sources) this.session.endInput(id);
        return;
      }
      if (only !== undefined) {
        const waiting = this.session.offerInputTo(only, data);
        queued = waiting === undefined;
        if (waiting) {
          batched = 0;
          await waiting;
        }
      } else {
        batched = 0;
        queued = false;
        const item = data;
        await Promise.all(sources.map((id) => this.session.sendInputTo(id, item)));
      }
    }
  }
}

/** What a host needs of an island, wherever its nodes run. */
export interface HostedIsland {
  readonly done: Promise<void>;
  abort(reason: unknown): void;
  metrics(): Promise<NodeMetricsSnapshot[]>;
  /** Barge-in ahead of the island's queued input (see RunningIsland.interrupt). */
  interrupt?(timestampUs?: number): void;
}

/** Islands a host runs, by id, for hosts reached over comlink. */
export class IslandTable {
  private readonly islands = new Map<string, HostedIsland>();
  private counter = 0;

  async open(start: () => Promise<HostedIsland>): Promise<string> {
    const island = await start();
    const id = `island-${++this.counter}`;
    this.islands.set(id, island);
    return id;
  }

  /** Waits for the island's end, once: its owner calls it right after open. */
  async done(id: string): Promise<void> {
    const island = this.islands.get(id);
    if (!island) throw new RemoteMediaError('session_closed', `No island '${id}' in this host`);
    try {
      await island.done;
    } finally {
      this.islands.delete(id);
    }
  }

  abort(id: string, reason: string): void {
    this.islands.get(id)?.abort(new RemoteMediaError('aborted', `Aborted: ${reason}`));
  }

  metrics(id: string): Promise<NodeMetricsSnapshot[]> {
    return this.islands.get(id)?.metrics() ?? Promise.resolve([]);
  }

  interrupt(id: string, timestampUs?: number): void {
    this.islands.get(id)?.interrupt?.(timestampUs);
  }
}

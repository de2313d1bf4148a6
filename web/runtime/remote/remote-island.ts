/**
 * An island whose nodes run on a gateway: this thread moves its input channels into
 * a gateway session and the session's outputs into its output channels. To the rest
 * of the runtime it is an island like any other.
 *
 * With `remote.restart_on_loss: true` in the manifest (or `restartOnLoss` in the
 * options), an island whose gateway dies is opened again on another one behind the
 * same URL: its channels carry on with the next frame and `restarts` records what
 * was lost (RestartedEvent).
 */
import { type NodeMetricsSnapshot, type RemoteConfig } from '../../core/internal.ts';
import {
  type ChannelReader,
  type ChannelWriter,
  openReader,
  openWriter,
} from '../channel/channel.ts';
import type { IslandSpec } from '../island.ts';
import {
  type GatewayClientOptions,
  GatewayConnection,
  type RestartedEvent,
} from './gateway-connection.ts';

/** A runtime session's restart settings for its remote islands (RuntimeStreamOptions). */
export type RemoteIslandRestart = Pick<
  GatewayClientOptions,
  'restartOnLoss' | 'maxRestarts' | 'reconnectWindowMs' | 'livenessTimeoutMs'
>;

export class RemoteIsland {
  readonly done: Promise<void>;

  private constructor(
    private readonly connection: GatewayConnection,
    private readonly readers: ChannelReader[],
    private readonly writers: ChannelWriter[],
    /** Every restart of this island on another gateway, in order. */
    readonly restarts: readonly RestartedEvent[],
  ) {
    const pumps = readers.map((reader, port) => this.pump(reader, port));
    this.done = Promise.all([connection.done, ...pumps]).then(
      () => undefined,
      (error: unknown) => {
        connection.abort('the island failed');
        this.cancelChannels();
        throw error;
      },
    );
    this.done.catch(() => {});
  }

  static async start(
    spec: IslandSpec,
    remote: RemoteConfig,
    options: GatewayClientOptions & { onRestarted?: (event: RestartedEvent) => void },
  ): Promise<RemoteIsland> {
    const restarts: RestartedEvent[] = [];
    const writers = spec.outputs.map((o) => openWriter(o.endpoint));
    const readers = spec.inputs.map((i) => openReader(i.endpoint));
    try {
      const connection = await GatewayConnection.open(
        remote,
        {
          manifest: spec.manifest,
          inputs: spec.inputs.map((i) => ({ sources: i.sources })),
          outputs: spec.outputs.map((o) => ({ sink: o.sink })),
        },
        {
          onOutput: (port, data) => writers[port]!.write(data),
          onOutputEnd: (port) => writers[port]!.end(),
          onRestarted: (event) => {
            restarts.push(event);
            options.onRestarted?.(event);
          },
        },
        options,
      );
      return new RemoteIsland(connection, readers, writers, restarts);
    } catch (error) {
      for (const channel of [...readers, ...writers]) channel.cancel();
      throw error;
    }
  }

  abort(reason: unknown): void {
    this.connection.abort(String((reason as Error)?.message ?? reason));
    this.cancelChannels();
  }

  /** Asked of the gateway, which runs these nodes. */
  metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.connection.metrics();
  }

  /**
   * Barge-in given as the pipeline's input, out of band: the frame in this island's
   * channel may wait behind queued input and the gateway's credit window.
   */
  interrupt(timestampUs?: number): void {
    if (this.readers.length > 0) this.connection.interrupt(0, timestampUs);
  }

  private cancelChannels(): void {
    for (const channel of [...this.readers, ...this.writers]) channel.cancel();
  }

  private async pump(reader: ChannelReader, port: number): Promise<void> {
    for (;;) {
      const data = await reader.read();
      if (data === undefined) return this.connection.endInput(port);
      const waiting = this.connection.send(port, data);
      if (waiting) await waiting;
    }
  }
}

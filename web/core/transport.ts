/**
 * The transport-agnostic session API. The worker runtime (Runtime), the gateway
 * client (RemoteProxyClient) and the Python transports implement PipelineTransport
 * around a PipelineRunner (whose own calls keep the original's names,
 * executeUnary and createStreamSession), so code written against
 * PipelineTransport runs on any of them.
 */

import { RemoteMediaError } from './errors.ts';
import type { NodeMetricsSnapshot } from './node-metrics.ts';
import type { ManifestSource } from './pipeline-runner.ts';
import type { RuntimeData } from './runtime-data.ts';

/** One output of a pipeline and the sink node that produced it. */
export interface SessionOutput {
  nodeId: string;
  data: RuntimeData;
}

export interface SessionOptions {
  /** Aborting ends the session at once with an `aborted` error. */
  signal?: AbortSignal;
  /** Items each edge's queue holds before its producer waits. Default 32. */
  queueCapacity?: number;
}

/**
 * A running pipeline fed item by item. Outputs must be consumed (recvOutput or
 * `for await`) while inputs are sent: queues are bounded, so a producer whose
 * outputs nobody reads eventually waits.
 */
export interface StreamSession extends AsyncIterable<SessionOutput> {
  readonly sessionId: string;
  /** Resolves once the pipeline accepted the input; rejects with the session's error. */
  sendInput(data: RuntimeData): Promise<void>;
  /** The next output, or undefined once the session ended and every output was read. */
  recvOutput(): Promise<SessionOutput | undefined>;
  /**
   * Ends the input and resolves once every node has flushed and cleaned up. Outputs
   * not yet read stay readable. Rejects with the session's error if it failed.
   */
  close(): Promise<void>;
  /** True until the session has ended (closed and drained, failed or aborted). */
  isActive(): boolean;
  /** Per-node metrics at this moment. */
  metrics(): Promise<NodeMetricsSnapshot[]>;
}

/** Reads a session's outputs until it ends: the async iteration every StreamSession offers. */
export async function* iterateOutputs(
  session: Pick<StreamSession, 'recvOutput'>,
): AsyncGenerator<SessionOutput, void, undefined> {
  for (;;) {
    const output = await session.recvOutput();
    if (output === undefined) return;
    yield output;
  }
}

/**
 * Sends every input into a session, closes it, and returns every output: what
 * executeBatch and run do on any transport. The session ends (aborted with the
 * error) if an input is rejected, so the output loop never waits for ever.
 */
export async function runThrough(
  session: StreamSession & { abort(reason?: unknown): void },
  inputs: Iterable<RuntimeData> | AsyncIterable<RuntimeData>,
): Promise<SessionOutput[]> {
  const feeding = feed(session, inputs).catch((error: unknown) => session.abort(error));
  const outputs: SessionOutput[] = [];
  try {
    for await (const output of session) outputs.push(output);
  } finally {
    await feeding;
  }
  return outputs;
}

/**
 * The one output of a run with one input (execute, executeUnary); no output or
 * several is a `usage` error that says what to call instead.
 */
export function onlyOutput(
  outputs: readonly SessionOutput[],
  call: string,
  instead: string,
): RuntimeData {
  if (outputs.length !== 1) {
    throw new RemoteMediaError(
      'usage',
      `${call} expects exactly one output, the pipeline produced ${outputs.length}; use ${instead}`,
    );
  }
  return outputs[0]!.data;
}

async function feed(
  session: StreamSession,
  inputs: Iterable<RuntimeData> | AsyncIterable<RuntimeData>,
): Promise<void> {
  if (Symbol.iterator in inputs) {
    for (const input of inputs) await session.sendInput(input);
  } else {
    for await (const input of inputs) await session.sendInput(input);
  }
  await session.close();
}

export interface PipelineTransport {
  /** Runs one input through the pipeline and returns its single output. */
  execute(
    manifest: ManifestSource,
    input: RuntimeData,
    options?: SessionOptions,
  ): Promise<RuntimeData>;
  stream(manifest: ManifestSource, options?: SessionOptions): Promise<StreamSession>;
}

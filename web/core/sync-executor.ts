/**
 * The synchronous fast path: runs a batch through a pipeline whose node types all
 * declare `synchronous: true` (initialize, process, flush and cleanup return no
 * promise and no async iterable), in one call with no await. Callers that cannot
 * await cheaply — Python inside Pyodide, where every await is a trip through its
 * event loop — get their results at once. Other pipelines are refused up front
 * (canRunSynchronously), before any node is made; they use the streaming executor.
 *
 * Semantics match PipelineSession for such pipelines: each input travels depth
 * first (fan-out in connection order), order holds per edge, control frames flush
 * and pass on, events pass nodes that do not accept them, and at the end every
 * node is flushed in topological order and cleaned up in reverse, whatever happened.
 * Barge-in: depth first, nothing is in flight or queued when a trigger is emitted,
 * so the setting's nodes only have their interrupt hook run (this path keeps no
 * metrics), and the interrupt control travels on behind the trigger.
 */
import { bargeInOf, bargeInTargets, triggersBargeIn } from './barge-in.ts';
import { describeCause, NodeExecutionError, RemoteMediaError } from './errors.ts';
import type { PreparedPipeline } from './manifest-validation.ts';
import type { NodeInstance, NodeOutput, ProcessContext } from './node-contract.ts';
import { assertValidRuntimeData, RuntimeData } from './runtime-data.ts';
import type { SessionOutput } from './transport.ts';

/** True when every node type of the pipeline declares itself synchronous. */
export function canRunSynchronously(pipeline: PreparedPipeline): boolean {
  for (const definition of pipeline.definitions.values()) {
    if (definition.synchronous !== true) return false;
  }
  return true;
}

/** A node type declared synchronous answered with a promise: a bug in that node. */
function notSynchronous(id: string): RemoteMediaError {
  return new RemoteMediaError(
    'usage',
    `node '${id}' is declared synchronous but returned a promise or an async iterable`,
    { nodeId: id },
  );
}

const NEVER_ABORTED = new AbortController().signal;

export function runSynchronously(
  pipeline: PreparedPipeline,
  inputs: Iterable<RuntimeData>,
): SessionOutput[] {
  if (!canRunSynchronously(pipeline)) {
    throw new RemoteMediaError('usage', 'this pipeline has asynchronous nodes: use executeBatch');
  }
  const { graph, definitions, manifest } = pipeline;
  const params = new Map(manifest.nodes.map((n) => [n.id, n.params]));
  const instances = new Map<string, NodeInstance>();
  const contexts = new Map<
    string,
    { nodeId: string; from: string | undefined; signal: AbortSignal }
  >();
  const outputs: SessionOutput[] = [];

  const emit = (id: string, output: NodeOutput | Promise<NodeOutput>): void => {
    if (output === undefined || output === null) return;
    if (output instanceof Promise || Symbol.asyncIterator in output) throw notSynchronous(id);
    if ('kind' in output) return forward(id, output);
    for (const item of output as Iterable<RuntimeData>) forward(id, item);
  };

  const bargeIn = bargeInOf(manifest);
  const interruptTargets = (): void => {
    for (const target of bargeInTargets(bargeIn!)) {
      const instance = instances.get(target)!;
      try {
        if (instance.interrupt?.(contexts.get(target)!) instanceof Promise) {
          throw notSynchronous(target);
        }
      } catch (error) {
        throw wrap(target, error);
      }
    }
  };

  const forward = (id: string, data: RuntimeData): void => {
    if (bargeIn && triggersBargeIn(bargeIn, id, data)) {
      interruptTargets();
      if (data.kind === 'event') {
        send(id, data);
        return send(id, RuntimeData.control('interrupt'));
      }
    }
    send(id, data);
  };

  const send = (id: string, data: RuntimeData): void => {
    const next = graph.downstream.get(id)!;
    if (next.length === 0) outputs.push({ nodeId: id, data });
    for (const target of next) push(target, data, id);
  };

  const push = (id: string, data: RuntimeData, from: string | undefined): void => {
    const instance = instances.get(id)!;
    const context = contexts.get(id)!;
    context.from = from;
    try {
      if (data.kind === 'control') {
        if (data.signal === 'flush' && instance.flush) emit(id, instance.flush(context));
        return forward(id, data);
      }
      const accepts = definitions.get(id)!.accepts;
      if (accepts && !accepts.includes(data.kind)) {
        if (data.kind === 'event') return forward(id, data);
        throw new RemoteMediaError(
          'invalid_data',
          `expects ${accepts.join(' or ')} input, received ${data.kind}`,
          { nodeId: id },
        );
      }
      emit(id, instance.process(data, context as ProcessContext));
    } catch (error) {
      throw wrap(id, error);
    }
  };

  try {
    for (const id of graph.order) {
      const context = { nodeId: id, from: undefined, signal: NEVER_ABORTED };
      contexts.set(id, context);
      try {
        const instance = definitions.get(id)!.create(params.get(id), context);
        instances.set(id, instance);
        if (instance.initialize?.() instanceof Promise) throw notSynchronous(id);
      } catch (error) {
        if (error instanceof RemoteMediaError && error.kind === 'usage') throw error;
        throw new NodeExecutionError(
          id,
          error,
          `Node '${id}' failed to initialize: ${describeCause(error)}`,
        );
      }
    }
    for (const input of inputs) {
      assertValidRuntimeData(input);
      if (bargeIn?.from === undefined && input.kind === 'control' && input.signal === 'interrupt') {
        if (bargeIn) interruptTargets();
      }
      for (const source of graph.sources) push(source, input, undefined);
    }
    for (const id of graph.order) {
      const instance = instances.get(id)!;
      if (!instance.flush) continue;
      try {
        emit(id, instance.flush(contexts.get(id)!));
      } catch (error) {
        throw wrap(id, error);
      }
    }
  } catch (error) {
    cleanupAll(instances);
    throw error;
  }
  const cleanupError = cleanupAll(instances);
  if (cleanupError) throw cleanupError;
  return outputs;
}

function wrap(id: string, error: unknown): unknown {
  if (
    error instanceof RemoteMediaError &&
    (error.kind === 'node_failed' || error.kind === 'usage')
  ) {
    return error;
  }
  return new NodeExecutionError(id, error);
}

/** Cleans up every instance in reverse order; returns the first failure. */
function cleanupAll(instances: Map<string, NodeInstance>): NodeExecutionError | undefined {
  let first: NodeExecutionError | undefined;
  for (const [id, instance] of [...instances].reverse()) {
    try {
      if (instance.cleanup?.() instanceof Promise)
        first ??= new NodeExecutionError(id, notSynchronous(id));
    } catch (error) {
      first ??= new NodeExecutionError(id, error);
    }
  }
  return first;
}

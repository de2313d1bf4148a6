/**
 * The node contract. A node type is a name, a params schema and a factory; the
 * instance it makes may have initialize, process, flush and cleanup. The executor
 * calls them one at a time per instance (never concurrently), in this order:
 * initialize once, then process/flush for each input, then flush at end of stream,
 * then cleanup once whatever happened.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { RuntimeData, RuntimeDataKind } from './runtime-data.ts';

export type { StandardSchemaV1 };

/**
 * What process and flush may return: nothing, one item, an array, or a (sync or
 * async) iterable that yields items as they are made — the streaming form.
 */
export type NodeOutput =
  | RuntimeData
  | readonly RuntimeData[]
  | Iterable<RuntimeData>
  | AsyncIterable<RuntimeData>
  | undefined
  // Lets `process() {}` and `=> void` bodies type-check.
  | void;

export interface NodeContext {
  /** The id of this node instance in the manifest. */
  readonly nodeId: string;
  /** Aborted when the session ends early (failure, abort, close); long work should stop. */
  readonly signal: AbortSignal;
  /**
   * Ends the session with `error`, for failures a node learns of between calls
   * (its process died, its device went away). Errors thrown by a call need not use it.
   */
  fail?(error: unknown): void;
}

export interface ProcessContext extends NodeContext {
  /** Id of the upstream node the input came from; undefined for the pipeline input. */
  readonly from: string | undefined;
}

export interface NodeInstance {
  initialize?(): void | Promise<void>;
  process(input: RuntimeData, context: ProcessContext): NodeOutput | Promise<NodeOutput>;
  /** Emits what the node holds back (a partial frame, an open segment). */
  flush?(context: NodeContext): NodeOutput | Promise<NodeOutput>;
  /**
   * Barge-in (the manifest's `bargeIn.to` names the node): drop in-flight work now —
   * stop a synthesis, empty a playback buffer. The one exception to one call at a
   * time: the executor calls it at once, possibly while process or flush of this
   * node is running, which should then end soon; their outputs after the interrupt
   * are dropped by the executor, and so are inputs older than the interrupt. Called
   * any number of times, also before any input and after the last; must not throw
   * for having nothing to drop.
   */
  interrupt?(context: NodeContext): void | Promise<void>;
  cleanup?(): void | Promise<void>;
}

export interface NodeDefinition<Params = unknown> {
  /** The `node_type` manifests use. */
  readonly type: string;
  /** Other names accepted for this type, e.g. the original project's `PassThroughNode`. */
  readonly aliases?: readonly string[];
  readonly description?: string;
  /**
   * Validates a manifest node's `params` (any Standard Schema: zod, valibot, ...).
   * Its output is what `create` receives, so defaults and coercions apply.
   */
  readonly params: StandardSchemaV1<unknown, Params>;
  /**
   * The kinds of data `process` accepts; anything else fails the session with an
   * `invalid_data` error naming the node, except events, which pass by unchanged.
   * Omitted: every kind is given to `process`.
   */
  readonly accepts?: readonly RuntimeDataKind[];
  /**
   * Promise that instances never return a promise or an async iterable (from
   * initialize, process, flush or cleanup): pipelines made only of such nodes may
   * run on the synchronous fast path (PipelineRunner.executeBatchSync).
   */
  readonly synchronous?: boolean;
  create(params: Params, context: NodeContext): NodeInstance;
}

/** Identity function that gives a node definition its types. */
export function defineNode<Params>(definition: NodeDefinition<Params>): NodeDefinition<Params> {
  return definition;
}

/** A node definition of any params type, for lists and registries of mixed types. */
// Params are invariant, so a list of definitions of mixed types needs `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNodeDefinition = NodeDefinition<any>;

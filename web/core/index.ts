/**
 * web/core's public names: what the package's entries export of the engine (see
 * web/index.ts, web/index.node.ts). Runs unchanged in a browser Worker, in Node and
 * in the gateway; imports nothing from the DOM, Node or worker globals.
 *
 * The runtime, the gateway, the CLI and tests import web/core/internal.ts instead,
 * which adds what they share (codec, protocol, graph, placement, registry) without
 * making it public. tests/node/public-surface.test.ts pins this list.
 */
export {
  type ErrorKind,
  type ManifestIssue,
  ManifestValidationError,
  NodeExecutionError,
  RemoteMediaError,
} from './errors.ts';
export type { Manifest, ManifestNode, RemoteConfig } from './manifest.ts';
export {
  type AnyNodeDefinition,
  defineNode,
  type NodeDefinition,
  type NodeInstance,
} from './node-contract.ts';
export type { NodeMetricsSnapshot } from './node-metrics.ts';
export { PipelineRunner, type PipelineRunnerOptions } from './pipeline-runner.ts';
export {
  type AudioData,
  type BinaryData,
  type ControlData,
  type ControlSignal,
  type EventData,
  type JsonData,
  type JsonValue,
  type PixelFormat,
  RuntimeData,
  type RuntimeDataKind,
  type TensorData,
  type TensorDType,
  type TextData,
  type VideoData,
} from './runtime-data.ts';
export type {
  PipelineTransport,
  SessionOptions,
  SessionOutput,
  StreamSession,
} from './transport.ts';

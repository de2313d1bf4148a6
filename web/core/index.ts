/**
 * web/core: the transport-agnostic engine. Runs unchanged in a browser Worker, in
 * Node and in the gateway; imports nothing from the DOM, Node or worker globals.
 */
export { crc32 } from './crc32.ts';
export {
  abortedError,
  type ErrorKind,
  type ManifestIssue,
  ManifestValidationError,
  NodeExecutionError,
  RemoteMediaError,
  type SerializedError,
} from './errors.ts';
export {
  decodeFrame,
  encodedFrameLength,
  encodeFrame,
  encodeFrameInto,
  FRAME_HEADER_BYTES,
  FRAME_TRAILER_BYTES,
  FRAME_VERSION,
  type Frame,
  peekFrameLength,
} from './frame-codec.ts';
export {
  FrameAssembler,
  type FrameAssemblerLimits,
  GATEWAY_ACK_EVERY,
  GATEWAY_MORE_PARTS,
  GATEWAY_PORT_MASK,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  type GatewayMessage,
  gatewayMessageSchemas,
  packFrame,
  PART_CHARGE_BYTES,
  parseGatewayMessage,
  protocolError,
  parseRemoteIsland,
  remoteIslandSchema,
  type RemoteIslandSpec,
  ReplayLog,
  type SequencedMessage,
  SequenceTracker,
} from './gateway-protocol.ts';
export { buildGraph, type Connection, type PipelineGraph } from './graph.ts';
export {
  EXECUTORS,
  type DockerConfig,
  type Executor,
  formatPath,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestNode,
  manifestSchema,
  type RemoteConfig,
} from './manifest.ts';
export { PreparedPipeline, validateManifest } from './manifest-validation.ts';
export {
  type AnyNodeDefinition,
  defineNode,
  type NodeContext,
  type NodeDefinition,
  type NodeInstance,
  type NodeOutput,
  type ProcessContext,
  type StandardSchemaV1,
} from './node-contract.ts';
export type { NodeMetricsSnapshot } from './node-metrics.ts';
export { NodeRegistry } from './node-registry.ts';
export { Calculator } from './nodes/basic/calculator.ts';
export { PassThrough } from './nodes/basic/pass-through.ts';
export { Accumulator } from './nodes/audio/accumulator.ts';
export { EnergyVAD } from './nodes/audio/energy-vad.ts';
export { FormatConvert, pcm16MimeType } from './nodes/audio/format-convert.ts';
export { Gain } from './nodes/audio/gain.ts';
export { LogMel } from './nodes/audio/log-mel.ts';
export { Rebuffer } from './nodes/audio/rebuffer.ts';
export { Resample } from './nodes/audio/resample.ts';
export { BUILTIN_NODES, createDefaultRegistry } from './nodes/builtin-nodes.ts';
export {
  CALLER,
  type Island,
  type PlacementPlan,
  type PlannedChannel,
  planPlacement,
} from './placement.ts';
export { PipelineSession, type PipelineSessionOptions, type SinkPort } from './pipeline-session.ts';
export {
  type ManifestSource,
  PipelineRunner,
  type PipelineRunnerOptions,
} from './pipeline-runner.ts';
export {
  type AudioData,
  assertValidRuntimeData,
  audioDurationSeconds,
  type BinaryData,
  type ControlData,
  type ControlSignal,
  type EventData,
  type JsonData,
  type JsonValue,
  PIXEL_FORMATS,
  type PixelFormat,
  RUNTIME_DATA_KINDS,
  RuntimeData,
  type RuntimeDataKind,
  type TensorData,
  type TensorDType,
  type TextData,
  type VideoData,
} from './runtime-data.ts';
export {
  iterateOutputs,
  onlyOutput,
  type PipelineTransport,
  runThrough,
  type SessionOptions,
  type SessionOutput,
  type StreamSession,
} from './transport.ts';

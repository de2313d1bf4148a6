/**
 * web/core for the code that is built on it: the browser runtime, the workers, the
 * gateway, the CLI and tests. The public names (./index.ts) plus what those parts
 * share that users do not need: the frame codec, the gateway protocol, the graph,
 * placement, the registry and the built-in node definitions. Not a package entry.
 */
export * from './index.ts';
export { crc32 } from './crc32.ts';
export { abortedError, type SerializedError } from './errors.ts';
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
  type PreparedFrame,
  prepareFrame,
} from './frame-codec.ts';
export {
  FrameAssembler,
  type FrameAssemblerLimits,
  GATEWAY_ACK_EVERY,
  GATEWAY_HEARTBEAT_MAX_MS,
  GATEWAY_HEARTBEAT_MIN_MS,
  GATEWAY_HEARTBEAT_TEXT,
  GATEWAY_MORE_PARTS,
  GATEWAY_PORT_MASK,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  type GatewayMessage,
  gatewayMessageSchemas,
  packFrame,
  packFrameOf,
  PART_CHARGE_BYTES,
  parseGatewayMessage,
  parseRemoteIsland,
  protocolError,
  remoteIslandSchema,
  type RemoteIslandSpec,
  ReplayLog,
  type SequencedMessage,
  SequenceTracker,
} from './gateway-protocol.ts';
export { buildGraph, type Connection, type PipelineGraph } from './graph.ts';
export {
  type DockerConfig,
  type Executor,
  EXECUTORS,
  formatPath,
  MANIFEST_VERSION,
  manifestSchema,
} from './manifest.ts';
export { PreparedPipeline, validateManifest } from './manifest-validation.ts';
export type { NodeContext, NodeOutput, ProcessContext, StandardSchemaV1 } from './node-contract.ts';
export { NodeRegistry } from './node-registry.ts';
export type { ManifestSource } from './pipeline-runner.ts';
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
export { StaleWindow } from './interrupt-gate.ts';
export { SessionOutputQueue, type SessionOutputQueueOptions } from './session-output-queue.ts';
export {
  assertValidRuntimeData,
  audioDurationSeconds,
  PIXEL_FORMATS,
  RUNTIME_DATA_KINDS,
} from './runtime-data.ts';
export { iterateOutputs, onlyOutput, runThrough } from './transport.ts';

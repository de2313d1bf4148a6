/**
 * RemoteMedia Web: the public API. Everything an embedding app uses is exported
 * from here, with its types.
 */
export * from './core/index.ts';
export { platform } from './platform.ts';
export { installErrorTransfer } from './runtime/error-transfer.ts';
export { PipelineHost } from './runtime/pipeline-host.ts';
export { type ChannelMode, type ChannelOptions } from './runtime/channel/channel.ts';
export type { OverrunPolicy } from './runtime/ring/frame-ring.ts';
export { createRuntime, Runtime, type RuntimeOptions } from './runtime/runtime.ts';
export { RuntimeSession, type RuntimeStreamOptions } from './runtime/runtime-session.ts';
export type { PythonLoadStage } from './python/python-runtime.ts';
export { type GatewayClientOptions, gatewayUrl } from './runtime/remote/gateway-connection.ts';
export { RemoteProxyClient, RemoteSession } from './runtime/remote/remote-proxy-client.ts';
export { AudioPlayback, type PlaybackOptions } from './runtime/audio/audio-playback.ts';
export {
  type AudioSource,
  type AudioSourceOptions,
  audioBlocks,
  decodeAudio,
  openAudioFile,
  openMicrophone,
} from './runtime/audio/audio-source.ts';

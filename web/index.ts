/**
 * RemoteMedia Web in a browser (the package's `browser` and default entry): the
 * core's public names and the browser runtime. Node gets web/index.node.ts under
 * the same name. tests/node/public-surface.test.ts pins this list.
 */
export * from './core/index.ts';
export type { ChannelMode, ChannelOptions } from './runtime/channel/channel.ts';
export type { OverrunPolicy } from './runtime/ring/frame-ring.ts';
export { createRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.ts';
export type { RuntimeSession, RuntimeStreamOptions } from './runtime/runtime-session.ts';
export type { PythonLoadStage } from './python/python-runtime.ts';
export type { GatewayClientOptions } from './runtime/remote/gateway-connection.ts';
export { RemoteProxyClient, type RemoteSession } from './runtime/remote/remote-proxy-client.ts';
export { AudioPlayback, type PlaybackOptions } from './runtime/audio/audio-playback.ts';
export {
  type AudioSource,
  type AudioSourceOptions,
  audioBlocks,
  decodeAudio,
  openAudioFile,
  openMicrophone,
} from './runtime/audio/audio-source.ts';

/**
 * RemoteMedia Web in a browser (the package's `browser` and default entry): the
 * core's public names and the browser runtime. Node gets web/index.node.ts under
 * the same name. tests/node/public-surface.test.ts pins this list.
 */
export * from './core/index.ts';
export { createRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.ts';
export type { RuntimeSession, RuntimeStreamOptions } from './runtime/runtime-session.ts';
export type { GatewayClientOptions, RestartedEvent } from './runtime/remote/gateway-connection.ts';
export { RemoteProxyClient, type RemoteSession } from './runtime/remote/remote-proxy-client.ts';
export { AudioPlayback } from './runtime/audio/audio-playback.ts';
export {
  type AudioSource,
  audioBlocks,
  decodeAudio,
  openAudioFile,
  openMicrophone,
} from './runtime/audio/audio-source.ts';

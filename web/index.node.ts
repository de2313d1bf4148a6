/**
 * RemoteMedia Web on Node (the package's `node` entry): the core's public names
 * and what runs on Node — RemoteProxyClient over `ws` where Node has no global
 * WebSocket, and SileroVAD reading its model from the installed packages. Browsers
 * get web/index.ts under the same name. tests/node/public-surface.test.ts pins
 * this list.
 */
import { nodeSileroAssets } from './nodes/silero-assets-node.ts';
import { createSileroVad } from './nodes/silero-vad.ts';

export * from './core/index.ts';
export type { GatewayClientOptions, RestartedEvent } from './runtime/remote/gateway-connection.ts';
export type { RemoteSession } from './runtime/remote/remote-proxy-client.ts';
export { RemoteProxyClient } from './node/remote-proxy-client.ts';

/**
 * The SileroVAD node type for a PipelineRunner on Node:
 * `new PipelineRunner({ nodes: [SileroVAD] })`. Nothing is fetched: the models come
 * from @ricky0123/vad-web, onnxruntime-web runs them.
 */
export const SileroVAD = createSileroVad(nodeSileroAssets);

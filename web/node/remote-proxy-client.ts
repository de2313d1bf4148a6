/**
 * RemoteProxyClient on Node: the same client, with the `ws` package as its WebSocket
 * where Node has no global one (Node 20; Node 22 has one). The package's Node
 * entry exports this class under the same name, so code written for the browser
 * runs on Node unchanged.
 */
import WebSocket from 'ws';
import type { RemoteConfig } from '../core/index.ts';
import type { GatewayClientOptions } from '../runtime/remote/gateway-connection.ts';
import { RemoteProxyClient as AnyPlatformClient } from '../runtime/remote/remote-proxy-client.ts';

/** ws implements the WHATWG WebSocket API the client uses (binaryType, on*, send, close). */
const NodeWebSocket = globalThis.WebSocket ?? (WebSocket as unknown as typeof globalThis.WebSocket);

export class RemoteProxyClient extends AnyPlatformClient {
  constructor(remote: RemoteConfig, options: GatewayClientOptions) {
    super(remote, { ...options, WebSocket: options.WebSocket ?? NodeWebSocket });
  }
}

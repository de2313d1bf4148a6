/**
 * `remotemedia-web/gateway`: the gateway inside your own Node program, and the
 * tokens it accepts. The `remotemedia-gateway` command (main.ts) is the same
 * server with flags. tests/node/public-surface.test.ts pins this list.
 */
export { type Gateway, type GatewayOptions, startGateway } from './gateway.ts';
export { type GatewayGrantsInput, type MintOptions, mintGatewayToken } from './gateway-tokens.ts';

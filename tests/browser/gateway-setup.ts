/**
 * Global set-up of the browser suites: real gateways on loopback for the hybrid
 * tests and the Python client in Pyodide, their ports and token provided to them
 * (vitest's provide/inject). The pages are browsers, so they hold what a visitor
 * would: a signed, short-lived token minted for this run (docs/gateway.md) that
 * allows client code — which the gateway then runs under bubblewrap.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';
import { mintGatewayToken } from '../../remote-gateway/gateway-tokens.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    gatewayPort: number;
    gatewayToken: string;
    /** A second gateway, started with allowPickle. */
    pickleGatewayPort: number;
  }
}

let gateway: Gateway | undefined;
let pickling: Gateway | undefined;

export async function setup(project: TestProject): Promise<void> {
  const tokenSecret = randomBytes(32).toString('base64url');
  const token = await mintGatewayToken(
    tokenSecret,
    { nodeTypes: ['*'], clientCode: true },
    { expiresIn: '2h', subject: 'browser-suite' },
  );
  // The test page's origin is the vitest server's, on a port chosen at run time.
  gateway = await startGateway({ port: 0, tokenSecret, allowedOrigins: ['*'] });
  pickling = await startGateway({
    port: 0,
    tokenSecret,
    allowedOrigins: ['*'],
    allowPickle: true,
  });
  project.provide('gatewayPort', gateway.port);
  project.provide('gatewayToken', token);
  project.provide('pickleGatewayPort', pickling.port);
}

export async function teardown(): Promise<void> {
  await gateway?.close();
  await pickling?.close();
}

/**
 * Global set-up of the browser suites: real gateways on loopback for the hybrid
 * tests and the Python client in Pyodide, their ports and token provided to them
 * (vitest's provide/inject).
 */
import type { TestProject } from 'vitest/node';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';

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
  const token = 'browser-suite-token';
  // The test page's origin is the vitest server's, on a port chosen at run time.
  gateway = await startGateway({ port: 0, tokens: [token], allowedOrigins: ['*'] });
  pickling = await startGateway({
    port: 0,
    tokens: [token],
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

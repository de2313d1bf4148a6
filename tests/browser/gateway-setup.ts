/**
 * Global set-up of the browser suites: a real gateway on loopback for the hybrid
 * tests, its port and token provided to them (vitest's provide/inject).
 */
import type { TestProject } from 'vitest/node';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    gatewayPort: number;
    gatewayToken: string;
  }
}

let gateway: Gateway | undefined;

export async function setup(project: TestProject): Promise<void> {
  const token = 'browser-suite-token';
  // The test page's origin is the vitest server's, on a port chosen at run time.
  gateway = await startGateway({ port: 0, tokens: [token], allowedOrigins: ['*'] });
  project.provide('gatewayPort', gateway.port);
  project.provide('gatewayToken', token);
}

export async function teardown(): Promise<void> {
  await gateway?.close();
}

/**
 * The admin listener: a separate HTTP port (loopback by default) for the operator,
 * never for visitors. It serves /metrics (Prometheus text, aggregates only, cheap at
 * any load: metrics.ts), /sessions (what runs, by session: ids, client addresses,
 * token fingerprints, sizes) and /healthz. The public port answers /healthz with
 * aggregates only, so no tenant learns about another.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** One running session, as the operator sees it. */
export interface SessionRecord {
  sessionId: string;
  /** The client's address (an IPv6 /64 for IPv6). */
  address: string;
  /** A fingerprint of the token (log.ts), or a signed token's id. */
  token: string;
  nodes: number;
  processes: number;
  resumable: boolean;
  openedAt: string;
}

export interface AdminListener {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminListener(options: {
  host: string;
  port: number;
  metrics: () => string;
  sessions: () => SessionRecord[];
  health: () => Record<string, unknown>;
  log: Logger;
}): Promise<AdminListener> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(options.metrics());
    } else if (path === '/sessions') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ sessions: options.sessions() }));
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(options.health()));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  options.log.info({ event: 'admin_listening', url }, `admin listener on ${url}`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The admin listener: a separate HTTP port (loopback by default) for the operator,
 * never for visitors. It serves /metrics (Prometheus text, aggregates only, cheap at
 * any load: metrics.ts), /sessions (what runs, by session: ids, client addresses,
 * token fingerprints, sizes) and /healthz. The public port answers /healthz with
 * aggregates only, so no tenant learns about another. With a token, /metrics and
 * /sessions ask for it as a bearer token (Prometheus' `authorization` setting);
 * /healthz stays open, as on the public port.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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
  /** Bearer token that /metrics and /sessions require. Default: none (loopback only). */
  token?: string;
}): Promise<AdminListener> {
  const allowed = bearerCheck(options.token);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/healthz' && !allowed(request.headers.authorization)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="remotemedia-gateway admin"' });
      response.end('this admin listener needs its token: Authorization: Bearer <admin token>\n');
    } else if (path === '/metrics') {
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

/** Compares digests, so neither the length nor the bytes of the token leak by timing. */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const expected = digest(token);
  return (header) => {
    // The scheme is case-insensitive (RFC 7235 section 2.1); the token is not.
    const given = /^Bearer +(.+)$/i.exec(header ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}

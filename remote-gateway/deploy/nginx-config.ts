/**
 * Fills in deploy/nginx.conf for a fleet of gateways on loopback: one pool
 * upstream for new sessions, one upstream per gateway for its resumes (the
 * template's comment says why that routing is correct).
 */
import { readFileSync } from 'node:fs';
import { RemoteMediaError } from '../../web/core/internal.ts';

export interface FleetGateway {
  /** The gateway's --name: letters, digits, - and _. */
  name: string;
  port: number;
}

export interface NginxConfigOptions {
  /** nginx's prefix (absolute): pid, error log and temporary files go there. */
  prefix: string;
  /** The one public port, on 127.0.0.1. */
  port: number;
  gateways: readonly FleetGateway[];
  /** Connections one client address may hold open through nginx. Default 256. */
  perAddress?: number;
}

const TEMPLATE = new URL('./nginx.conf', import.meta.url);

export function nginxConfig(options: NginxConfigOptions): string {
  if (options.gateways.length === 0) {
    throw new RemoteMediaError('usage', 'nginx config: at least one gateway is needed');
  }
  for (const { name } of options.gateways) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new RemoteMediaError(
        'usage',
        `nginx config: gateway name ${JSON.stringify(name)}: expected letters, digits, - or _`,
      );
    }
  }
  const server = (g: FleetGateway) => `127.0.0.1:${g.port}`;
  const fill: Record<string, string> = {
    PREFIX: options.prefix.replace(/\/$/, ''),
    PORT: String(options.port),
    PER_ADDRESS: String(options.perAddress ?? 256),
    ROUTES: options.gateways.map((g) => `        ${g.name} gateway_${g.name};`).join('\n'),
    // max_fails=1: one refused connection or one 503 (draining) keeps it out for 10 s.
    POOL: options.gateways
      .map((g) => `        server ${server(g)} max_fails=1 fail_timeout=10s;`)
      .join('\n'),
    UPSTREAMS: options.gateways
      .map((g) => `    upstream gateway_${g.name} {\n        server ${server(g)};\n    }`)
      .join('\n'),
  };
  return readFileSync(TEMPLATE, 'utf8').replace(/@@([A-Z_]+)@@/g, (whole, key: string) => {
    const value = fill[key];
    if (value === undefined) throw new RemoteMediaError('usage', `nginx.conf: unknown ${whole}`);
    return value;
  });
}

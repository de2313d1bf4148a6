/**
 * The admin listener's token: /metrics and /sessions list what runs (client
 * addresses, token fingerprints), so with a token they ask for it, and a gateway
 * refuses to put them on a non-loopback interface without one. The attacks send raw
 * HTTP requests with odd paths, schemes and tokens.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteMediaError } from '../web/core/internal.ts';
import { type Gateway, startGateway } from './gateway.ts';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    tokens: ['client-token-0123456789'],
    adminPort: 0,
    adminToken: ADMIN_TOKEN,
    containers: false,
    python: { spares: 0 },
  });
});
afterAll(() => gateway?.close());

const get = (path: string, authorization?: string) =>
  fetch(`${gateway.adminUrl}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });

describe('an admin listener with a token', () => {
  it('answers /metrics and /sessions only with the bearer token', async () => {
    for (const path of ['/metrics', '/sessions']) {
      const none = await get(path);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await none.text()).toMatch(/needs its token/);
      expect((await get(path, `Bearer ${ADMIN_TOKEN}x`)).status).toBe(401);
      expect((await get(path, ADMIN_TOKEN)).status).toBe(401);
      // The client's token is not the operator's.
      expect((await get(path, 'Bearer client-token-0123456789')).status).toBe(401);
      const allowed = await get(path, `Bearer ${ADMIN_TOKEN}`);
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toMatch(path === '/metrics' ? /remotemedia_/ : /"sessions"/);
    }
  });

  it('keeps /healthz open, as on the public port', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
  });
});

describe('an admin listener off loopback', () => {
  it('is refused at start without a token, naming the flag', async () => {
    const started = startGateway({
      port: 0,
      tokens: ['client-token-0123456789'],
      adminPort: 0,
      adminHost: '0.0.0.0',
      containers: false,
      python: { spares: 0 },
    });
    await expect(started).rejects.toBeInstanceOf(RemoteMediaError);
    await expect(started).rejects.toThrow(
      /an admin listener on 0\.0\.0\.0 needs an admin token \(--admin-token\)/,
    );
  });
});

/** One raw request: the path goes out exactly as given (no URL normalisation). */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const { hostname, port } = new URL(gateway.adminUrl!);
  return new Promise<number>((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the admin listener under attack', () => {
  it('paths that only look like /healthz still need the token', async () => {
    for (const path of [
      '/healthz/../metrics',
      '/healthz/../sessions',
      '//metrics',
      '/metrics/',
      '/METRICS',
      '/sessions%2F',
      'http://evil/metrics',
      '/healthz%00/../sessions',
    ]) {
      expect([path, await raw(path)]).toEqual([path, 401]);
    }
    expect(await raw('/healthz?x=/metrics')).toBe(200);
  });

  it('refuses a near-miss token of the same length, and another scheme', async () => {
    const near = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith('9') ? '8' : '9');
    expect(await raw('/sessions', { authorization: `Bearer ${near}` })).toBe(401);
    expect(await raw('/sessions', { authorization: `Basic ${ADMIN_TOKEN}` })).toBe(401);
    expect(await raw('/sessions', { authorization: `Bearer` })).toBe(401);
    expect(await raw('/sessions', { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` })).toBe(
      401,
    );
  });

  // gateway-admin.ts matched the scheme as "Bearer" only: RFC 7235 makes it
  // case-insensitive, so a client sending "bearer" was refused its own token.
  it("takes the scheme in any case, as HTTP says ('bearer', 'BEARER')", async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect(await raw('/metrics', { authorization: `${scheme} ${ADMIN_TOKEN}` })).toBe(200);
    }
  });

  // gateway.ts took any admin token, one character or empty ('' from an unset
  // variable: no request could ever present it), where a client's needs 8.
  it('refuses an admin token shorter than 8 characters at start, naming the flag', async () => {
    for (const adminToken of ['', 'x', '1234567']) {
      await expect(
        startGateway({
          port: 0,
          tokens: ['client-token-0123456789'],
          adminPort: 0,
          adminToken,
          containers: false,
          python: { spares: 0 },
        }),
      ).rejects.toThrow(RemoteMediaError);
      await expect(
        startGateway({
          port: 0,
          tokens: ['client-token-0123456789'],
          adminPort: 0,
          adminToken,
          containers: false,
          python: { spares: 0 },
        }),
      ).rejects.toThrow(/--admin-token\) needs 8 characters or more/);
    }
  });
});

/**
 * The admin listener's token: /metrics and /sessions list what runs (client
 * addresses, token fingerprints), so with a token they ask for it, and a gateway
 * refuses to put them on a non-loopback interface without one.
 */
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

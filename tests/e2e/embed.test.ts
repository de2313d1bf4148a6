import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright';
import { type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../chromium.ts';

/**
 * examples/embed as a separate app would use the library: its own package.json
 * (remotemedia-web as a dependency, here linked from this checkout), its own Vite
 * config with the plugin, built with its own Vite and opened in Debian's Chromium.
 */
const run = promisify(execFile);
const APP = 'examples/embed';
let server: PreviewServer;
let browser: Browser;

beforeAll(async () => {
  // The package's built parts (dist/web: types, the Vite plugin) come from `npm run build`.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: APP });
  await run('node_modules/.bin/vite', ['build'], { cwd: APP });
  server = await preview({
    root: APP,
    configFile: `${APP}/vite.config.ts`,
    preview: { port: 0, host: '127.0.0.1' },
    logLevel: 'silent',
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the embed example', () => {
  it('builds on its own and runs its pipeline (core node, then Python) in Chromium', async () => {
    const page = await browser.newPage();
    const url = server.resolvedUrls!.local[0]!;
    const external: string[] = [];
    page.on('request', (r) => {
      // blob: is the page's own memory (the snapshot's gunzip worker), not the network.
      if (!r.url().startsWith(url) && !r.url().startsWith('blob:')) external.push(r.url());
    });
    await page.goto(url);
    await expect.poll(() => page.textContent('#status'), { timeout: 60_000 }).toBe('Done');
    const items = await page.$$eval('#outputs li', (li) => li.map((l) => l.textContent));
    expect(items).toEqual(['square: 36', 'square: 49', 'square: 64']);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(external).toEqual([]);
    await page.close();
  }, 90_000);
});

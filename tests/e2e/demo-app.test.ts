import { existsSync } from 'node:fs';
import type { Browser } from 'playwright';
import { type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../chromium.ts';

/**
 * The built app as `npm start` serves it (vite preview of dist-app), driven in
 * Debian's Chromium: the page runs a manifest in its worker and shows the outputs.
 */
let server: PreviewServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  if (!existsSync('dist-app/index.html'))
    throw new Error('dist-app is missing: run "npm run build" first');
  server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
  url = server.resolvedUrls!.local[0]!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the demo app (built)', () => {
  it('is served cross-origin isolated and runs the example manifest in a worker', async () => {
    const page = await browser.newPage();
    const response = await page.goto(url);
    expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    await expect
      .poll(() => page.textContent('#status'))
      .toContain('Worker ready (cross-origin isolated)');
    await page.click('#run');
    await page.waitForSelector('#outputs tr');
    const cells = await page.$$eval('#outputs td:nth-child(4)', (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(cells).toEqual(['6', '7', '8']);
    await page.screenshot({ path: 'test-results/demo-app.png', fullPage: true });
    await page.close();
  });

  it('runs an inline Python node in the Python worker, from the built files only', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (r) => {
      // The studio's status light asks the local gateway how it is; no asset leaves.
      // blob: is the page's own memory (the snapshot's gunzip worker), not the network.
      const local = r.url().startsWith(url) || r.url().startsWith('blob:');
      if (!local && !r.url().endsWith('/healthz')) external.push(r.url());
    });
    await page.goto(url);
    await expect.poll(() => page.textContent('#status')).toContain('Worker ready');
    await page.selectOption('#example', {
      label: 'Python: an inline node in Pyodide after a Calculator',
    });
    await page.click('#run');
    await page.waitForSelector('#outputs tr', { timeout: 60_000 });
    const cells = await page.$$eval('#outputs td:nth-child(4)', (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(cells).toEqual([
      '{"value":2,"squared":4,"python":true}',
      '{"value":4,"squared":16,"python":true}',
      '{"value":6,"squared":36,"python":true}',
    ]);
    expect(external).toEqual([]);
    await page.close();
  }, 90_000);

  it('shows a manifest error with its path', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await expect.poll(() => page.textContent('#status')).toContain('Worker ready');
    const manifest = await page.inputValue('#manifest');
    await page.fill('#manifest', manifest.replace('"operand": 5', '"operand": "five"'));
    await page.click('#run');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('nodes[1].params.operand');
    // The edited manifest is kept (IndexedDB) and comes back after a reload.
    await page.reload();
    await expect.poll(() => page.inputValue('#manifest')).toContain('"operand": "five"');
    await page.close();
  });
});

describe('the demo app served without COOP/COEP', () => {
  it('still runs the manifest, over postMessage, and says so once', async () => {
    // No config file: none of our isolation headers, as on a plain static host.
    const plain = await preview({
      configFile: false,
      build: { outDir: 'dist-app' },
      preview: { port: 0, host: '127.0.0.1' },
      logLevel: 'silent',
    });
    try {
      const page = await browser.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      await page.goto(plain.resolvedUrls!.local[0]!);
      await expect.poll(() => page.textContent('#status')).toContain('NOT cross-origin isolated');
      expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('undefined');
      await page.click('#run');
      await page.waitForSelector('#outputs tr');
      const cells = await page.$$eval('#outputs td:nth-child(4)', (tds) =>
        tds.map((td) => td.textContent),
      );
      expect(cells).toEqual(['6', '7', '8']);
      await page.click('#run');
      await page.waitForSelector('#outputs tr');
      const notes = warnings.filter((w) => w.includes('not cross-origin isolated'));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toContain('postMessage');
      await page.close();
    } finally {
      await plain.close();
    }
  });
});

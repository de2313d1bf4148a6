/**
 * `npm start`'s servers (scripts/serve-demo.sh, after setup and build): the demo
 * and the gateway run together, one address is printed — the demo's, with its
 * token — and when either process ends, the other is stopped too.
 * Needs the built demo (dist-app/, made by `npm run build`, as `npm test` does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, start, type Started } from '../package/packed-project.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return port;
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves once `pid` has ended (the test's timeout is the hang detector). */
async function ended(pid: number): Promise<void> {
  while (isRunning(pid)) await new Promise((wake) => setTimeout(wake, 100));
}

interface Serving {
  script: Started;
  url: string;
  /** Everything the script printed, once it has ended. */
  output: () => string;
  gateway: number;
  preview: number;
}

async function serve(): Promise<Serving> {
  const port = await freePort();
  let printed = '';
  const script = start(REPO, 'bash', ['scripts/serve-demo.sh', '--port', '0'], {
    env: { REMOTEMEDIA_DEMO_PORT: String(port) },
  });
  script.child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const [, url] = await script.waitFor(/^Demo: (\S+)$/);
  // The script's two children: node running the gateway, node running vite preview.
  const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(script.child.pid)])
    .toString()
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line)!);
  const pid = (pattern: RegExp) => Number(children.find(([, , args]) => pattern.test(args!))![1]);
  return {
    script,
    url: url!,
    output: () => printed,
    gateway: pid(/remote-gateway\/main\.ts/),
    preview: pid(/vite\.js preview/),
  };
}

describe('npm start (scripts/serve-demo.sh)', () => {
  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist-app/index.html'))) {
      throw new Error('dist-app/ is missing: npm run build first');
    }
  });

  it('prints one address, the demo with its gateway token, which serves the app', async () => {
    const serving = await serve();
    try {
      expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#gateway-token=[\w.-]+$/);
      const page = await fetch(serving.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
    } finally {
      await serving.script.stop();
    }
    const addresses = serving.output().match(/\b(?:https?|wss?):\/\/\S+/g);
    expect(addresses).toEqual([serving.url]);
  });

  it('stopping the preview server stops the gateway', async () => {
    const serving = await serve();
    process.kill(serving.preview, 'SIGTERM');
    await serving.script.exited; // the script ends by itself...
    await ended(serving.gateway); // ...and the gateway with it
    expect(isRunning(serving.gateway)).toBe(false);
  });

  it('stopping the gateway stops the preview server', async () => {
    const serving = await serve();
    process.kill(serving.gateway, 'SIGTERM');
    await serving.script.exited;
    await ended(serving.preview);
    expect(isRunning(serving.preview)).toBe(false);
  });
});

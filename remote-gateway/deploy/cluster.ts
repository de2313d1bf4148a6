#!/usr/bin/env node
/**
 * `npm run gateway:cluster -- [--gateways N] [--port PORT] [-- gateway flags...]`:
 * N gateways (default 3, named g0, g1, ...) on free loopback ports and Debian's
 * nginx in front of them (deploy/nginx.conf), one public URL printed. Flags after
 * `--` go to every gateway (--token, --token-secret, --drain-timeout-ms, ...);
 * without a token one is made up, shared by all and printed.
 *
 * SIGINT stops everything at once; SIGTERM drains the gateways (their sessions
 * finish, gateway-drain.ts), then stops nginx. Nothing is left behind: every child
 * is stopped by its own pid, and a child that cannot start stops the rest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { integerFlag, parseFlags } from '../cli-flags.ts';
import { GATEWAY_NODE_FLAGS } from '../node-flags.ts';
import { type FleetGateway, nginxConfig } from './nginx-config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FLAGS = {
  gateways: { type: 'string', value: 'N', help: 'gateways to start (default 3)' },
  port: { type: 'string', value: 'PORT', help: "nginx's public port (default: a free one)" },
  nginx: { type: 'string', value: 'PATH', help: 'the nginx binary (default /usr/sbin/nginx)' },
} as const;

const split = process.argv.indexOf('--', 2);
const own = split < 0 ? process.argv.slice(2) : process.argv.slice(2, split);
const forwarded = split < 0 ? [] : process.argv.slice(split + 1);
let count: number;
let publicPort: number | undefined;
let nginxBinary: string;
try {
  const values = parseFlags(FLAGS, 'REMOTEMEDIA_CLUSTER_', own);
  count = integerFlag(values.gateways, 'gateways', 1) ?? 3;
  publicPort = integerFlag(values.port, 'port', 1);
  nginxBinary = values.nginx ?? '/usr/sbin/nginx';
} catch (error) {
  console.error(`gateway:cluster: ${(error as Error).message}`);
  process.exit(2);
}

// One token for the whole fleet: a session's resume is checked by its gateway again.
const env = { ...process.env };
const hasToken =
  forwarded.some((a) => /^--token(-secret)?(=|$)/.test(a)) ||
  Object.keys(env).some((k) => k.startsWith('REMOTEMEDIA_GATEWAY_TOKEN'));
const madeUpToken = hasToken ? undefined : randomBytes(18).toString('base64url');
if (madeUpToken) env.REMOTEMEDIA_GATEWAY_TOKEN = madeUpToken;

const withAdmin =
  forwarded.some((a) => /^--admin-port(=|$)/.test(a)) ||
  Boolean(process.env.REMOTEMEDIA_GATEWAY_ADMIN_PORT);
const children: ChildProcess[] = [];
const prefix = mkdtempSync(join(tmpdir(), 'remotemedia-nginx-'));
let stopping = false;

/** Stops every child by its pid (gateways first, with `signal`; nginx last). */
async function stopAll(signal: NodeJS.Signals, status: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const [nginx, ...gateways] = children;
  for (const child of gateways) child.kill(signal);
  await Promise.all(gateways.map(exited));
  // SIGQUIT: nginx finishes what it proxies (nothing left once the gateways are gone).
  nginx?.kill('SIGQUIT');
  if (nginx) await exited(nginx);
  rmSync(prefix, { recursive: true, force: true });
  process.exit(status);
}

function startGatewayProcess(name: string): Promise<FleetGateway> {
  const child = spawn(
    process.execPath,
    [
      // The gateway process's own flags, as `npm run gateway` passes them (node-flags.ts).
      ...GATEWAY_NODE_FLAGS,
      '--import',
      'tsx',
      join(ROOT, 'remote-gateway', 'main.ts'),
      '--port',
      '0',
      '--name',
      name,
      // Behind nginx every client has nginx's address: those limits are nginx's now.
      '--max-sessions-per-client',
      '100000',
      '--max-connections-per-address',
      '100000',
      ...forwarded,
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const found = /RemoteMedia gateway on ws:\/\/[^:]+:(\d+)\//.exec(out);
      if (!found) return;
      // With --admin-port (0: each its own free port), its /metrics for the operator's Prometheus.
      const admin = /admin \(metrics\) on (http:\/\/\S+)/.exec(out);
      if (withAdmin && !admin) return;
      child.stdout!.off('data', onData);
      // Its log lines (JSON) go on to ours, after the banner.
      child.stdout!.pipe(process.stdout);
      console.log(
        `gateway ${name} pid ${child.pid} on 127.0.0.1:${found[1]}${admin ? ` metrics ${admin[1]}/metrics` : ''}`,
      );
      resolve({ name, port: Number(found[1]) });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      if (!stopping) console.error(`gateway:cluster: gateway ${name} exited (${code ?? signal})`);
      reject(new Error(`gateway ${name} exited (${code ?? signal}) before listening`));
    });
  });
}

function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once nginx answers /healthz through a gateway; rejects if it exits. */
async function nginxReady(nginx: ChildProcess, port: number): Promise<void> {
  let exited = false;
  nginx.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error('nginx exited (see its lines above)');
    const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

process.on('SIGINT', () => void stopAll('SIGINT', 0));
process.on('SIGTERM', () => void stopAll('SIGTERM', 0));

try {
  children.push(undefined as unknown as ChildProcess); // nginx's place, first
  const gateways = await Promise.all(
    Array.from({ length: count }, (_, i) => startGatewayProcess(`g${i}`)),
  );
  const port = publicPort ?? (await freePort());
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(prefix, dir), { recursive: true });
  }
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ prefix, port, gateways }));
  const nginx = spawn(nginxBinary, ['-e', 'stderr', '-c', conf, '-p', `${prefix}/`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children[0] = nginx;
  nginx.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`gateway:cluster: nginx exited (${code ?? signal}): stopping the gateways`);
      void stopAll('SIGINT', 1);
    }
  });
  await nginxReady(nginx, port);
  console.log(`nginx pid ${nginx.pid} (config ${conf})`);
  console.log(`RemoteMedia gateway cluster on ws://127.0.0.1:${port}/v1`);
  if (madeUpToken) console.log(`token (made up for this run): ${madeUpToken}`);
} catch (error) {
  console.error(`gateway:cluster: cannot start: ${(error as Error).message}`);
  await stopAll('SIGINT', 1);
}

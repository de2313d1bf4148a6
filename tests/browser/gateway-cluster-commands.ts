/**
 * Browser commands (they run in the test server's Node process) that give a
 * browser test a real gateway fleet: `remote-gateway/deploy/cluster.ts` — what
 * `npm run gateway:cluster` runs — starts N gateway processes and Debian's nginx on
 * loopback, and the page reaches them through nginx's one URL, as a deployed app
 * would. A test can then kill -9 the gateway holding its session, which a page
 * cannot do. One fleet at a time; every process is stopped by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserCommand } from 'vitest/node';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NGINX = '/usr/sbin/nginx';

export interface FleetMember {
  name: string;
  pid: number;
  port: number;
}

export interface Fleet {
  /** nginx's public port: ws://127.0.0.1:<port>/v1. */
  port: number;
  token: string;
  members: FleetMember[];
}

let cluster: ChildProcess | undefined;
let members: FleetMember[] = [];
/** The gateway stopped by freezeBusyGateway (SIGSTOP), for killBusyGateway. */
let frozen: FleetMember | undefined;

/** Stops the fleet (SIGINT: nginx and every gateway at once) and waits for its exit. */
async function stop(): Promise<void> {
  const running = cluster;
  // A stopped gateway would never act on the SIGINT the fleet passes on.
  if (frozen) process.kill(frozen.pid, 'SIGKILL');
  cluster = undefined;
  members = [];
  frozen = undefined;
  if (!running || running.exitCode !== null || running.signalCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGINT');
  await exited;
}

// A test run that ends without its afterAll must not leave a fleet behind.
process.once('exit', () => {
  if (cluster?.pid && cluster.exitCode === null) cluster.kill('SIGINT');
});

/** Starts `gateways` gateways behind nginx; resolves once nginx answers through them. */
const startGatewayFleet: BrowserCommand<[gateways: number, token: string]> = async (
  _context,
  gateways,
  token,
) => {
  await stop();
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: apt-get install nginx-light`);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'remote-gateway/deploy/cluster.ts',
      '--gateways',
      String(gateways),
      '--',
      '--token',
      token,
      // The test page's origin is the vitest server's, on a port chosen at run time.
      '--allow-origin',
      '*',
      '--no-containers',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cluster = child;
  let out = '';
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/gateway (g\d+) pid (\d+) on 127\.0\.0\.1:(\d+)/g)) {
        if (!members.some((x) => x.name === m[1])) {
          members.push({ name: m[1]!, pid: Number(m[2]), port: Number(m[3]) });
        }
      }
      const found = /cluster on ws:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`the gateway fleet exited (${code ?? signal}) before it listened:\n${out}`)),
    );
  });
  members.sort((a, b) => a.name.localeCompare(b.name));
  return { port, token, members } satisfies Fleet;
};

/** Sessions open on each gateway, asked of each directly (not through nginx). */
async function sessionsOn(member: FleetMember): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${member.port}/healthz`);
  return ((await response.json()) as { sessions: number }).sessions;
}

/**
 * The one gateway that holds sessions (the test's session: a page cannot ask nginx
 * where it landed). Throws when not exactly one does, rather than guess.
 */
async function busyGateway(): Promise<FleetMember> {
  const busy: FleetMember[] = [];
  for (const member of members) if ((await sessionsOn(member)) > 0) busy.push(member);
  if (busy.length !== 1) {
    throw new Error(
      `expected one gateway with sessions, found ${busy.length}: ${busy.map((m) => m.name).join(', ')}`,
    );
  }
  return busy[0]!;
}

/**
 * SIGSTOP of the busy gateway: its sockets stay open and take what is sent, but
 * nothing is answered — frames sent now are in flight when it is killed.
 */
const freezeBusyGateway: BrowserCommand<[]> = async () => {
  frozen = await busyGateway();
  process.kill(frozen.pid, 'SIGSTOP');
  return frozen.name;
};

/**
 * kill -9 of the frozen gateway, else of the busy one; resolves with its name once
 * the process is gone.
 */
const killBusyGateway: BrowserCommand<[]> = async () => {
  const victim = frozen ?? (await busyGateway());
  frozen = undefined;
  process.kill(victim.pid, 'SIGKILL');
  // Gone when signal 0 cannot reach it (the cluster script reaps it).
  for (;;) {
    try {
      process.kill(victim.pid, 0);
    } catch {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  members = members.filter((m) => m !== victim);
  return victim.name;
};

/** Sessions open on each gateway still alive, by name. */
const fleetSessions: BrowserCommand<[]> = async () =>
  Object.fromEntries(await Promise.all(members.map(async (m) => [m.name, await sessionsOn(m)])));

const stopGatewayFleet: BrowserCommand<[]> = () => stop();

export const gatewayFleetCommands = {
  startGatewayFleet,
  freezeBusyGateway,
  killBusyGateway,
  fleetSessions,
  stopGatewayFleet,
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    startGatewayFleet(gateways: number, token: string): Promise<Fleet>;
    freezeBusyGateway(): Promise<string>;
    killBusyGateway(): Promise<string>;
    fleetSessions(): Promise<Record<string, number>>;
    stopGatewayFleet(): Promise<void>;
  }
}

/**
 * A real gateway fleet for tests: `remote-gateway/deploy/cluster.ts` — what
 * `npm run gateway:cluster` runs — starts N gateway processes (g0, g1, ...) and
 * Debian's nginx on loopback; clients reach them only through nginx's one URL, as a
 * deployment's would. A test stops (SIGSTOP) or kills (SIGKILL) one gateway by its
 * pid and asks each gateway directly how many sessions it holds. Every process is
 * stopped by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NGINX = '/usr/sbin/nginx';

export interface FleetMember {
  name: string;
  pid: number;
  port: number;
  /** Its admin listener's /metrics, when the fleet was started with --admin-port. */
  metrics?: string;
}

/** Whether a process of that pid is still there. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class GatewayFleet {
  /** Gateways still running (a killed one leaves the list). */
  members: FleetMember[] = [];
  private readonly stopped = new Set<FleetMember>();

  private constructor(
    private readonly cluster: ChildProcess,
    /** nginx's public port: ws://127.0.0.1:<port>/v1. */
    readonly port: number,
    members: FleetMember[],
    readonly nginxPid: number,
  ) {
    this.members = members;
  }

  /** Starts `gateways` gateways behind nginx; resolves once nginx answers through them. */
  static async start(gateways: number, gatewayFlags: readonly string[]): Promise<GatewayFleet> {
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
        '--no-containers',
        '--log-level',
        'warn',
        ...gatewayFlags,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // A test run that ends without its clean-up must not leave a fleet behind.
    const onExit = () => child.exitCode === null && child.kill('SIGINT');
    process.once('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    let out = '';
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const members: FleetMember[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        // Whole lines only: a line cut between two chunks would lose its metrics URL.
        for (const m of out.matchAll(
          /gateway (g\d+) pid (\d+) on 127\.0\.0\.1:(\d+)(?: metrics (\S+))?\n/g,
        )) {
          if (!members.some((x) => x.name === m[1])) {
            const member: FleetMember = { name: m[1]!, pid: Number(m[2]), port: Number(m[3]) };
            if (m[4]) member.metrics = m[4];
            members.push(member);
          }
        }
        const found = /cluster on ws:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(out);
        if (found) resolve(Number(found[1]));
      });
      child.once('exit', (code, signal) =>
        reject(
          new Error(`the gateway fleet exited (${code ?? signal}) before it listened:\n${out}`),
        ),
      );
    });
    members.sort((a, b) => a.name.localeCompare(b.name));
    return new GatewayFleet(child, port, members, Number(/nginx pid (\d+)/.exec(out)?.[1] ?? 0));
  }

  member(name: string): FleetMember {
    const member = this.members.find((m) => m.name === name);
    if (!member)
      throw new Error(`no running gateway ${name} in ${this.members.map((m) => m.name)}`);
    return member;
  }

  /** A gateway's /healthz, asked of it directly: its status code and what it says. */
  async health(
    member: FleetMember,
  ): Promise<{ status: number; body: { sessions: number } & Record<string, unknown> }> {
    const response = await fetch(`http://127.0.0.1:${member.port}/healthz`);
    return { status: response.status, body: (await response.json()) as { sessions: number } };
  }

  /** Sessions open on each running (not stopped) gateway, asked of each directly. */
  async sessions(): Promise<Record<string, number>> {
    const running = this.members.filter((m) => !this.stopped.has(m));
    return Object.fromEntries(
      await Promise.all(
        running.map(async (m) => [m.name, (await this.health(m)).body.sessions] as const),
      ),
    );
  }

  /** The one gateway that holds sessions; throws when not exactly one does, rather than guess. */
  async busy(): Promise<FleetMember> {
    const busy = Object.entries(await this.sessions()).filter(([, n]) => n > 0);
    if (busy.length !== 1) {
      throw new Error(`expected one gateway with sessions, found ${busy.map(([name]) => name)}`);
    }
    return this.member(busy[0]![0]);
  }

  /** Resolves once no running gateway holds a session (a closed one leaves with its socket). */
  async idle(): Promise<void> {
    while (Object.values(await this.sessions()).some((n) => n > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * SIGSTOP: its sockets stay open and take what is sent, but nothing is answered,
   * so frames sent now are in flight when it is killed.
   */
  freeze(member: FleetMember): void {
    process.kill(member.pid, 'SIGSTOP');
    this.stopped.add(member);
  }

  /** kill -9 (sent at the call); resolves once the process is gone. */
  kill(member: FleetMember): Promise<void> {
    return this.signal(member, 'SIGKILL');
  }

  /** SIGTERM (sent at the call): the gateway drains; resolves once it has exited. */
  terminate(member: FleetMember): Promise<void> {
    return this.signal(member, 'SIGTERM');
  }

  private async signal(member: FleetMember, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    process.kill(member.pid, signal);
    while (alive(member.pid)) await new Promise((resolve) => setTimeout(resolve, 20));
    this.stopped.delete(member);
    this.members = this.members.filter((m) => m !== member);
  }

  /**
   * Stops nginx and every gateway (SIGINT to the fleet) and waits for its exit;
   * resolves with its exit code (null when a signal ended it).
   */
  async stop(): Promise<number | null> {
    // A stopped gateway would never act on the SIGINT the fleet passes on.
    for (const member of this.stopped) process.kill(member.pid, 'SIGKILL');
    this.stopped.clear();
    const child = this.cluster;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    return exited;
  }
}

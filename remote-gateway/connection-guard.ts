/**
 * Defence before authentication, at the TCP level: a stranger's connection costs a
 * file descriptor and a timer, and nothing else, for at most `handshakeTimeoutMs`.
 *
 * - Every connection must make progress within the deadline: send a whole HTTP
 *   request, or upgrade and authenticate a session. Otherwise it is closed.
 * - Connections are capped in total and per address (an IPv6 address counts by its
 *   /64, which one host usually holds whole).
 * - An address whose authentications fail too often is refused for a while.
 * - File descriptors are kept in reserve for workers (each CPython process and
 *   container client takes pipes): the total cap is lowered to fit the process's
 *   fd limit, and a connection is refused while the fds in use come within the
 *   reserve, so sockets can never starve the processes sessions need.
 *
 * Runs on the event loop; admit() is called for each accepted socket and allocates
 * only its small per-connection record.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RemoteMediaError } from '../web/core/internal.ts';

export interface ConnectionLimits {
  /** A connection must send a whole HTTP request or authenticate within this. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** Connections open at once (lowered to fit the fd limit minus the reserve). Default 10 000. */
  maxConnections?: number;
  /** Connections open at once from one address. Default 256. */
  maxConnectionsPerAddress?: number;
  /** Failed authentications from one address within the window before it is refused. Default 10. */
  maxAuthFailuresPerAddress?: number;
  /** The failure window, and how long an address is then refused. Default 60 s. */
  authFailureWindowMs?: number;
  /** File descriptors no connection may take: kept for worker processes. Default 512. */
  fdReserve?: number;
}

export type RefusalReason =
  'max_connections' | 'per_address' | 'fd_reserve' | 'auth_banned' | 'handshake_timeout';

interface Tracked {
  socket: Socket;
  address: string;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Replaces the plain destroy at the deadline (an upgraded socket says why first). */
  onExpire: (() => void) | undefined;
}

interface Failures {
  count: number;
  since: number;
  bannedUntil: number;
}

/** How often the fds in use are counted (a count of 5k fds costs ~0.35 ms). */
const FD_SAMPLE_MS = 500;
/** Refusals are logged one by one at debug, and summed up at info this often (a flood is one line). */
const SUMMARY_MS = 10_000;

export class ConnectionGuard {
  readonly limits: Required<ConnectionLimits>;
  /** The soft RLIMIT_NOFILE of this process (Infinity when it cannot be read). */
  readonly fdLimit: number;
  /** Refusals by reason, for /metrics. */
  readonly refused = new Map<RefusalReason, number>();
  authFailures = 0;
  private readonly open = new Map<string, Tracked>();
  private readonly perAddress = new Map<string, number>();
  private readonly failures = new Map<string, Failures>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private fdSample = { at: -Infinity, fds: 0, connections: 0 };
  private readonly unreported = new Map<RefusalReason, number>();
  private summary: ReturnType<typeof setTimeout> | undefined;

  constructor(
    limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
    const given = {
      handshakeTimeoutMs: limits.handshakeTimeoutMs ?? 5000,
      maxConnections: limits.maxConnections ?? 10_000,
      maxConnectionsPerAddress: limits.maxConnectionsPerAddress ?? 256,
      maxAuthFailuresPerAddress: limits.maxAuthFailuresPerAddress ?? 10,
      authFailureWindowMs: limits.authFailureWindowMs ?? 60_000,
      fdReserve: limits.fdReserve ?? 512,
    };
    for (const [key, value] of Object.entries(given)) {
      if (!Number.isInteger(value) || value < (key === 'fdReserve' ? 0 : 1)) {
        throw new RemoteMediaError('usage', `${key} must be a positive integer, not ${value}`);
      }
    }
    this.fdLimit = fileDescriptorLimit();
    const room = this.fdLimit - given.fdReserve - openFileDescriptors(0);
    if (room < given.maxConnections) {
      if (room < 16) {
        throw new RemoteMediaError(
          'usage',
          `the fd limit (ulimit -n) is ${this.fdLimit}: with a reserve of ${given.fdReserve} for workers, no room is left for connections; raise the limit or lower fdReserve`,
        );
      }
      this.log.warn(
        {
          event: 'limits',
          fdLimit: this.fdLimit,
          fdReserve: given.fdReserve,
          maxConnections: room,
        },
        `maxConnections lowered from ${given.maxConnections} to ${room} to fit the fd limit`,
      );
      given.maxConnections = room;
    }
    this.limits = given;
    this.sweeper = setInterval(() => this.sweep(), given.authFailureWindowMs);
    this.sweeper.unref();
  }

  /** Connections open now (authenticated or not). */
  get connections(): number {
    return this.open.size;
  }

  /**
   * For each accepted TCP socket, before any byte is read: false (and the socket
   * destroyed) when a limit refuses it; else its deadline starts.
   */
  admit(socket: Socket): boolean {
    const address = addressKey(socket.remoteAddress);
    const refuse = (reason: RefusalReason, detail: string) => {
      this.count(reason);
      this.log.debug({ event: 'refused', reason, address }, detail);
      socket.destroy();
      return false;
    };
    if (this.open.size >= this.limits.maxConnections) {
      return refuse('max_connections', `connection refused: ${this.limits.maxConnections} open`);
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) {
      return refuse(
        'per_address',
        `connection refused: ${fromAddress} open from this address (maxConnectionsPerAddress)`,
      );
    }
    if (this.fdsInUse() >= this.fdLimit - this.limits.fdReserve) {
      return refuse(
        'fd_reserve',
        `connection refused: the file descriptors left are kept for workers (fdReserve ${this.limits.fdReserve} of ${this.fdLimit})`,
      );
    }
    const key = socketKey(socket);
    const tracked: Tracked = { socket, address, timer: undefined, onExpire: undefined };
    this.open.set(key, tracked);
    this.perAddress.set(address, fromAddress + 1);
    this.arm(tracked);
    socket.once('close', () => {
      clearTimeout(tracked.timer);
      if (this.open.get(key) === tracked) this.open.delete(key);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    return true;
  }

  /** A whole HTTP request arrived on `socket`: its deadline starts again. */
  progressed(socket: Socket): void {
    const tracked = this.open.get(socketKey(socket));
    if (tracked) this.arm(tracked);
  }

  /**
   * `socket` became a WebSocket still to authenticate: at the deadline `onExpire`
   * runs (it should say why and close), and the socket is destroyed a second later
   * whatever the peer does.
   */
  upgraded(socket: Socket, onExpire: () => void): void {
    const tracked = this.open.get(socketKey(socket));
    if (tracked) tracked.onExpire = onExpire;
  }

  /** The connection authenticated: no deadline any more (its session's own timers run). */
  authenticated(socket: Socket): void {
    const tracked = this.open.get(socketKey(socket));
    if (!tracked) return;
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
  }

  /** An authentication from `address` failed; past the ceiling the address is refused. */
  authFailed(remoteAddress: string | undefined): void {
    this.authFailures++;
    const address = addressKey(remoteAddress);
    const now = Date.now();
    let entry = this.failures.get(address);
    if (!entry || now - entry.since > this.limits.authFailureWindowMs) {
      entry = { count: 0, since: now, bannedUntil: entry?.bannedUntil ?? 0 };
      this.failures.set(address, entry);
    }
    if (++entry.count >= this.limits.maxAuthFailuresPerAddress && entry.bannedUntil < now) {
      entry.bannedUntil = now + this.limits.authFailureWindowMs;
      this.log.warn(
        { event: 'banned', address, failures: entry.count },
        `address refused for ${this.limits.authFailureWindowMs} ms after ${entry.count} failed authentications`,
      );
    }
  }

  /** Seconds an address is still refused after failed authentications; 0 when it is not. */
  bannedFor(remoteAddress: string | undefined): number {
    const until = this.failures.get(addressKey(remoteAddress))?.bannedUntil ?? 0;
    const left = until - Date.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  count(reason: RefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    this.unreported.set(reason, (this.unreported.get(reason) ?? 0) + 1);
    this.summary ??= setTimeout(() => {
      this.summary = undefined;
      const refused = Object.fromEntries(this.unreported);
      this.unreported.clear();
      this.log.info(
        { event: 'connections_refused', refused, open: this.open.size },
        `connections refused or closed before authentication in the last ${SUMMARY_MS / 1000} s`,
      );
    }, SUMMARY_MS).unref();
  }

  /** The gateway is closing: connections still to authenticate end now (sessions end on their own). */
  close(): void {
    clearTimeout(this.summary);
    clearInterval(this.sweeper);
    for (const tracked of this.open.values()) {
      if (tracked.timer === undefined) continue;
      clearTimeout(tracked.timer);
      tracked.socket.destroy();
    }
  }

  private arm(tracked: Tracked): void {
    clearTimeout(tracked.timer);
    tracked.timer = setTimeout(() => {
      this.count('handshake_timeout');
      this.log.debug(
        { event: 'refused', reason: 'handshake_timeout', address: tracked.address },
        `connection closed: nothing useful within ${this.limits.handshakeTimeoutMs} ms`,
      );
      if (!tracked.onExpire) return void tracked.socket.destroy();
      tracked.onExpire();
      tracked.timer = setTimeout(() => tracked.socket.destroy(), 1000);
    }, this.limits.handshakeTimeoutMs);
  }

  /** Fds in use: counted every FD_SAMPLE_MS, estimated from the connections in between. */
  private fdsInUse(): number {
    const now = performance.now();
    if (now - this.fdSample.at >= FD_SAMPLE_MS) {
      this.fdSample = {
        at: now,
        fds: openFileDescriptors(this.open.size),
        connections: this.open.size,
      };
    }
    return this.fdSample.fds + (this.open.size - this.fdSample.connections);
  }

  /** Forgets failure records whose window and ban are over (the map stays bounded). */
  private sweep(): void {
    const now = Date.now();
    for (const [address, entry] of this.failures) {
      if (entry.bannedUntil < now && now - entry.since > this.limits.authFailureWindowMs) {
        this.failures.delete(address);
      }
    }
  }
}

/** Raw TCP and TLS sockets of one connection share it: the peer's address and port. */
function socketKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** The unit of per-address limits: an IPv4 address, or an IPv6 /64. */
export function addressKey(address: string | undefined): string {
  if (!address) return '?';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The soft RLIMIT_NOFILE: from /proc on Linux, else from the shell's `ulimit -n`. */
function fileDescriptorLimit(): number {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return line[1] === 'unlimited' ? Infinity : Number(line[1]);
  } catch {
    // not Linux: ask a shell, which inherits our limit
  }
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Infinity : Number(text) || Infinity;
  } catch {
    return Infinity;
  }
}

/** Fds open in this process; without /proc, `fallback` (the connections) stands in. */
function openFileDescriptors(fallback: number): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return fallback;
  }
}

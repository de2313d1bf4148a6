/**
 * The RemoteMedia gateway: runs the remote islands of browser pipelines on the same
 * core, one WebSocket per session (protocol in web/core/gateway-protocol.ts), with
 * CPython for PythonNode. Secure by default: a token is required, browser origins are
 * checked, message and frame sizes, sessions per client and idle time are bounded.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type AnyNodeDefinition,
  GATEWAY_PROTOCOL_VERSION,
  type GatewayMessage,
  type Manifest,
  parseGatewayMessage,
  parseRemoteIsland,
  PipelineRunner,
  RemoteMediaError,
} from '../web/core/internal.ts';
import { addressKey, type ConnectionLimits, ConnectionGuard } from './connection-guard.ts';
import {
  CONTAINER_NODE,
  type ContainerExecutorOptions,
  ContainerExecutor,
  routeContainers,
} from './container-executor.ts';
import { type AdminListener, type SessionRecord, startAdminListener } from './gateway-admin.ts';
import { type DrainResult, GatewayDrain } from './gateway-drain.ts';
import { authorizeIsland, TokenSessions } from './gateway-grants.ts';
import {
  checkManifestCeilings,
  limitError,
  SessionAdmissions,
  type SessionCeilings,
  sessionCeilings,
} from './gateway-limits.ts';
import { GatewaySession } from './gateway-session.ts';
import { startIdleHeartbeat } from './idle-heartbeat.ts';
import { type GatewayAuthority, gatewayAuthenticator } from './gateway-tokens.ts';
import { gatewayLogger, type Logger, type LogOptions, tokenFingerprint } from './log.ts';
import { SPEECH_NODE_TYPES } from '../web/core/nodes/speech/speech-nodes.ts';
import { GatewayMetrics } from './metrics.ts';
import { ProcessCeiling, type PythonExecutorOptions, PythonPool } from './python-process.ts';
import { type SandboxOptions, sandboxUnavailable } from './python-sandbox.ts';

/**
 * Connection limits (connection-guard.ts), session ceilings (gateway-limits.ts) and
 * the log (log.ts) are set here too, flat, as the command's flags are.
 */
export interface GatewayOptions extends ConnectionLimits, SessionCeilings, LogOptions {
  host?: string;
  /** 0 picks a free port. Default 8765. */
  port?: number;
  /**
   * Static operator tokens, for trusted callers only: each grants everything, and
   * its Python runs unsandboxed. Never hand one to a browser (mint signed tokens).
   */
  tokens?: readonly string[];
  /**
   * The HMAC secret (32+ characters) that signed tokens are verified with
   * (mintGatewayToken, `remotemedia-gateway token`). A gateway needs it or a static token.
   */
  tokenSecret?: string;
  /** How client code is sandboxed (bubblewrap) when a signed token allows it. */
  sandbox?: SandboxOptions;
  /** Browser origins allowed to connect ("*" for any). Clients without an Origin (not browsers) are allowed. */
  allowedOrigins?: readonly string[];
  /** PEM certificate and key: the gateway speaks wss:// and https://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest WebSocket message accepted and sent. Default 1 MiB; larger frames travel in parts. */
  maxMessageSize?: number;
  /** Largest frame reassembled from parts. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Parts one frame may travel in (each costs a header and a bookkeeping entry). Default 4096. */
  maxPartsPerFrame?: number;
  /** Input bytes of a session received and not yet taken by its pipeline. Default 2 × maxFrameBytes. */
  maxHeldBytes?: number;
  /** Sessions one client address may hold at once. Default 16. */
  maxSessionsPerClient?: number;
  /** A session with no message from its client for this long ends. Default 60 s. */
  idleTimeoutMs?: number;
  /** Ping period; a client that misses a pong is dropped. Default 10 s. */
  heartbeatMs?: number;
  /** permessage-deflate on the WebSocket. Default off (audio barely compresses). */
  compression?: boolean;
  python?: PythonExecutorOptions;
  /**
   * Unpickle Python objects (RemoteObjectExecutionNode with serialization "pickle")
   * sent by authenticated clients. Unpickling runs the sender's code: default off.
   */
  allowPickle?: boolean;
  /**
   * Node types beside the built-ins and PythonNode: an embedder's own (a node module,
   * `--nodes`; see web/core/node-module.ts), so remote nodes may use them.
   */
  nodes?: readonly AnyNodeDefinition[];
  /** Nodes with `docker` run in containers; `false` refuses them. Default on. */
  containers?: ContainerExecutorOptions | false;
  /** CPython node processes running at once in the whole gateway (per pool). Default 64. */
  maxPythonProcesses?: number;
  /**
   * Port of the admin listener (/metrics, /sessions); 0 picks a free one. Without
   * it there is none: the public port never serves metrics or session listings.
   */
  adminPort?: number;
  /**
   * Interface of the admin listener. Default 127.0.0.1. Any other needs an
   * adminToken: /sessions lists client addresses and token fingerprints.
   */
  adminHost?: string;
  /** Bearer token the admin listener's /metrics and /sessions require. */
  adminToken?: string;
  /**
   * This gateway's name in a fleet (`--name`, letters, digits, - and _): sent in
   * `opened`, so a resume asks the balancer for this gateway (deploy/nginx.conf).
   */
  name?: string;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly metrics: GatewayMetrics;
  readonly python: PythonPool;
  /** The processes of client code, under bubblewrap (only with a tokenSecret). */
  readonly sandboxed: PythonPool | undefined;
  readonly containers: ContainerExecutor | undefined;
  /** The admin listener's base URL (http://host:port), when adminPort was given. */
  readonly adminUrl: string | undefined;
  /** Connections and their limits, before authentication. */
  readonly connections: ConnectionGuard;
  /** The gateway's logger (log.ts), for its host's own lines (the last-resort handler). */
  readonly log: Logger;
  /**
   * Graceful shutdown (gateway-drain.ts): no new sessions, clients told, running
   * sessions given `timeoutMs` to finish; then it closes (aborting what is left).
   */
  drain(timeoutMs: number): Promise<DrainResult>;
  close(): Promise<void>;
}

const DEFAULT_ORIGINS = [
  'http://127.0.0.1:4173',
  'http://localhost:4173',
  'http://127.0.0.1:5173',
  'http://localhost:5173',
];

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const authenticate = gatewayAuthenticator(options);
  const tokenSessions = new TokenSessions();
  const maxMessageSize = options.maxMessageSize ?? 1 << 20;
  const limits = {
    maxMessageSize,
    maxFrameBytes: options.maxFrameBytes ?? 64 << 20,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxPartsPerFrame: options.maxPartsPerFrame,
    maxHeldBytes: options.maxHeldBytes,
  };
  const origins = new Set(options.allowedOrigins ?? DEFAULT_ORIGINS);
  const log = gatewayLogger(options);
  const guard = new ConnectionGuard(options, log);
  const ceilings = sessionCeilings(options);
  const admissions = new SessionAdmissions(ceilings, options.maxSessionsPerClient ?? 16);
  /** What /sessions lists on the admin port (never on the public one). */
  const sessions = new Map<GatewaySession, SessionRecord>();
  /** Sessions opened with resume, by id, until they end for good. */
  const resumable = new Map<string, GatewaySession>();
  const metrics = new GatewayMetrics();
  const drain = new GatewayDrain();
  if (options.name !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.name)) {
    throw new RemoteMediaError(
      'usage',
      `gateway name ${JSON.stringify(options.name)}: expected 1 to 64 letters, digits, - or _`,
    );
  }
  const adminHost = options.adminHost ?? '127.0.0.1';
  if (options.adminPort !== undefined && !isLoopback(adminHost) && !options.adminToken) {
    throw new RemoteMediaError(
      'usage',
      `an admin listener on ${adminHost} needs an admin token (--admin-token): its /sessions lists client addresses and token fingerprints; bind it to 127.0.0.1 or ::1 to go without one`,
    );
  }
  // The same floor as a client's static token: a short one is guessed, and an empty
  // one ('' from an unset variable) could never be presented.
  if (options.adminToken !== undefined && options.adminToken.length < 8) {
    throw new RemoteMediaError(
      'usage',
      `the admin token (--admin-token) needs 8 characters or more (it has ${options.adminToken.length})`,
    );
  }
  const allowPickle = options.allowPickle ?? false;
  const onWorkerLost = (error: RemoteMediaError) => {
    metrics.workersLost++;
    log.warn({ event: 'worker_lost', nodeId: error.nodeId }, error.message);
  };
  // One ceiling for the trusted and the sandboxed pool together: the operator's
  // maxPythonProcesses counts every CPython process the gateway runs.
  const pools = {
    ceiling: new ProcessCeiling(options.maxPythonProcesses ?? options.python?.maxProcesses ?? 64),
    onWorkerLost,
  };
  const python = new PythonPool({ ...options.python, ...pools, allowPickle });
  const containers =
    options.containers === false
      ? undefined
      : new ContainerExecutor({ ...options.containers, allowPickle, onWorkerLost });
  const runner = new PipelineRunner({
    nodes: [
      ...(options.nodes ?? []),
      python.nodeDefinition(),
      // The speech nodes: operator-shipped Python classes, granted by node type.
      ...SPEECH_NODE_TYPES.map((declared) => python.classNodeDefinition(declared)),
      ...(containers ? [containers.nodeDefinition()] : []),
    ],
  });
  // Only signed tokens can allow client code: their CPython runs in bubblewrap.
  // Without bubblewrap no client code runs at all (refused with the reason).
  const sandboxMissing =
    options.tokenSecret === undefined ? undefined : sandboxUnavailable(options.sandbox);
  if (sandboxMissing) log.warn({ event: 'no_sandbox' }, sandboxMissing);
  const sandboxed =
    options.tokenSecret === undefined || sandboxMissing
      ? undefined
      : new PythonPool(
          { ...options.python, ...pools, spares: options.python?.spares ?? 1, allowPickle },
          options.sandbox ?? {},
        );
  const sandboxedRunner =
    sandboxed &&
    new PipelineRunner({
      nodes: [
        ...(options.nodes ?? []),
        sandboxed.nodeDefinition(),
        ...SPEECH_NODE_TYPES.map((declared) => sandboxed.classNodeDefinition(declared)),
        ...(containers ? [containers.nodeDefinition()] : []),
      ],
    });
  // Without the executor a `docker` entry stays, and the node runs nowhere: refused.
  const route = (manifest: Manifest): Manifest => {
    if (containers) return routeContainers(manifest);
    if (Array.isArray(manifest?.nodes) && manifest.nodes.some((n) => n?.docker)) {
      throw new RemoteMediaError(
        'usage',
        'this gateway runs no containers (it was started with --no-containers); remove "docker" from the node',
      );
    }
    return manifest;
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    guard.progressed(request.socket);
    // Pages of allowed origins may ask how the gateway is (the demo's status light).
    const origin = request.headers.origin;
    if (origin && (origins.has('*') || origins.has(origin))) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
    }
    // Aggregates only: /metrics and /sessions are on the admin listener (gateway-admin.ts).
    if (request.url === '/healthz') {
      // 503 while draining: a balancer that polls /healthz stops sending sessions.
      response.writeHead(drain.active ? 503 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(health()));
    } else {
      response.writeHead(404).end();
    }
  };
  const health = () => ({
    ok: !drain.active,
    ...(drain.active ? { status: 'draining' } : {}),
    ...(options.name !== undefined ? { gateway: options.name } : {}),
    protocol: GATEWAY_PROTOCOL_VERSION,
    sessions: sessions.size,
  });
  // Node's own timeouts are backstops a second after the guard's deadline: the guard
  // closes first, and so counts and logs every connection it ends.
  const backstopMs = guard.limits.handshakeTimeoutMs + 1000;
  const server = options.tls
    ? createHttpsServer(
        { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: backstopMs },
        onRequest,
      )
    : createHttpServer(onRequest);
  // Before any byte is read: connection caps, per-address caps, the fd reserve, the deadline.
  server.on('connection', (socket: Socket) => guard.admit(socket));
  // A response's socket must not linger once the deadline is over.
  server.headersTimeout = backstopMs;
  server.requestTimeout = backstopMs;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageSize,
    perMessageDeflate: options.compression ?? false,
  });

  server.on('upgrade', (request, socket, head) => {
    const origin = request.headers.origin;
    const refuse = (status: number, reason: string, why: string, headers = '') => {
      metrics.countRefusal(why);
      log.info({ event: 'refused', reason: why, address: request.socket.remoteAddress }, reason);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers}Connection: close\r\n\r\n`);
    };
    // `/v1`, or `/v1?gateway=<name>` (a resume routed by a balancer to its gateway).
    const [path, query] = (request.url ?? '').split('?', 2);
    if (path !== '/v1') return refuse(404, 'Not Found', 'not_found');
    // Draining: a new session's upgrade gets 503, which nginx retries on another
    // gateway (proxy_next_upstream http_503); resumes still come in and finish here.
    if (drain.active && !new URLSearchParams(query ?? '').has('gateway')) {
      return refuse(503, 'Service Unavailable', 'draining');
    }
    if (origin !== undefined && !origins.has('*') && !origins.has(origin))
      return refuse(403, 'Forbidden', 'origin');
    const banned = guard.bannedFor(request.socket.remoteAddress);
    if (banned > 0) {
      return refuse(429, 'Too Many Requests', 'auth_banned', `Retry-After: ${banned}\r\n`);
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (origin !== undefined) originOf.set(ws, origin);
      accept(ws, request.socket.remoteAddress ?? '?', request.socket);
    });
  });
  /** The page origin of each browser connection, for tokens scoped to origins. */
  const originOf = new WeakMap<WebSocket, string>();

  /** The first message of a connection: `open` makes a session, `resume` finds one. */
  const begin = async (
    ws: WebSocket,
    client: string,
    message: GatewayMessage,
    socket: Socket,
  ): Promise<GatewaySession> => {
    if (message.type !== 'open' && message.type !== 'resume') {
      throw new RemoteMediaError('protocol', 'the first message must be "open" or "resume"');
    }
    if (message.version !== GATEWAY_PROTOCOL_VERSION) {
      throw new RemoteMediaError(
        'protocol',
        `protocol version ${message.version} is not served here; this gateway speaks ${GATEWAY_PROTOCOL_VERSION}`,
      );
    }
    // Signed, expiring, scoped (gateway-tokens.ts); checked again at every resume.
    let authority: GatewayAuthority;
    try {
      authority = await authenticate(message.token);
    } catch (error) {
      // Counted per address: past the ceiling the address is refused for a while.
      guard.authFailed(client);
      log.info(
        { event: 'refused', reason: 'unauthorized', address: client },
        (error as Error).message,
      );
      throw error;
    }
    guard.authenticated(socket);
    if (message.type === 'resume') {
      const found = resumable.get(String(message.sessionId));
      const key = Buffer.from(String(message.resumeKey ?? ''));
      const expected = Buffer.from(found?.resumeKey ?? '');
      if (!found || key.length !== expected.length || !timingSafeEqual(key, expected)) {
        throw new RemoteMediaError(
          'session_closed',
          `session ${message.sessionId} cannot be resumed: it ended (idle past ${limits.idleTimeoutMs} ms?) or the key is wrong`,
        );
      }
      found.resume(ws, Number(message.received), clientMaxOf(message), maxMessageSize);
      return found;
    }
    drain.refuseOpen(options.name);
    const asked = parseRemoteIsland(message.island);
    // Before anything is created, imported or spawned: what the token does not grant is refused.
    const permit = authorizeIsland(authority, asked.manifest, {
      origin: originOf.get(ws),
      allowPickle,
    });
    const island = { ...asked, manifest: route(asked.manifest) };
    // The operator's ceilings, before anything starts (a manifest may ask for less).
    const size = checkManifestCeilings(island.manifest, ceilings, PROCESS_TYPES);
    containers?.checkManifest(island.manifest);
    const pool = permit.sandboxed ? sandboxed : python;
    const pythonNodes = PYTHON_TYPES.reduce((sum, type) => sum + (size.byType.get(type) ?? 0), 0);
    if (pool && pythonNodes > pool.available) {
      throw limitError(
        'maxPythonProcesses',
        pythonNodes,
        pool.available,
        'CPython processes free in the gateway now',
      );
    }
    const tokenKey =
      authority.kind === 'signed'
        ? `signed:${authority.tokenId}`
        : `static:${tokenFingerprint(String(message.token))}`;
    const address = addressKey(client);
    const release = admissions.admit(tokenKey, address);
    let releaseToken: () => void;
    try {
      releaseToken = tokenSessions.admit(authority);
    } catch (error) {
      release();
      throw error;
    }
    let opened: GatewaySession;
    try {
      const chosen = permit.sandboxed ? sandboxedRunner : runner;
      if (!chosen) {
        throw new RemoteMediaError(
          'usage',
          `this gateway cannot run client code: ${sandboxMissing ?? 'it has no token secret'}`,
        );
      }
      opened = await GatewaySession.open(ws, chosen, island, limits, metrics, {
        clientMaxMessage: clientMaxOf(message),
        resumable: message.resume === true,
      });
    } catch (error) {
      release();
      releaseToken();
      throw error;
    }
    const record: SessionRecord = {
      sessionId: opened.sessionId,
      address,
      token: tokenKey,
      nodes: size.nodes,
      processes: size.processes,
      resumable: opened.resumable,
      openedAt: new Date().toISOString(),
    };
    sessions.set(opened, record);
    metrics.sessionsTotal++;
    metrics.sessionsActive++;
    metrics.nodesActive += size.nodes;
    log.info({ event: 'session_opened', ...record }, 'session opened');
    if (opened.resumeKey) resumable.set(opened.sessionId, opened);
    const openedAt = performance.now();
    void opened.ended.then(() => {
      sessions.delete(opened);
      resumable.delete(opened.sessionId);
      metrics.sessionsActive--;
      metrics.nodesActive -= size.nodes;
      release();
      releaseToken();
      drain.sessionEnded(sessions.size);
      log.info(
        {
          event: 'session_ended',
          sessionId: record.sessionId,
          seconds: Math.round(performance.now() - openedAt) / 1000,
        },
        'session ended',
      );
    });
    if (ws.readyState !== ws.OPEN) {
      // The client left while its session was being made.
      opened.onSocketClosed(ws, 1006);
      opened.abort('the client connection closed');
      return opened;
    }
    ws.send(
      JSON.stringify({
        type: 'opened',
        sessionId: opened.sessionId,
        maxMessageSize,
        resumeKey: opened.resumeKey,
        gateway: options.name,
        // This gateway honours the client's heartbeat interval (idle-heartbeat.ts).
        heartbeatMs: message.heartbeatMs,
      } satisfies GatewayMessage),
    );
    return opened;
  };
  const clientMaxOf = (message: { maxMessageSize?: number }) =>
    Math.min(Number(message.maxMessageSize ?? maxMessageSize) || maxMessageSize, maxMessageSize);

  const accept = (ws: WebSocket, client: string, socket: Socket) => {
    let session: GatewaySession | undefined;
    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, options.heartbeatMs ?? 10_000);
    const refuse = (error: RemoteMediaError, code: number) => {
      metrics.countRefusal(error.kind);
      metrics.countError(error.kind);
      if (error.kind !== 'unauthorized') {
        log.info({ event: 'refused', reason: error.kind, address: client }, error.message);
      }
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'error', error: error.toJSON() }));
        ws.close(code);
      }
    };
    // Until it authenticates, the connection's deadline runs (connection-guard.ts).
    guard.upgraded(socket, () =>
      refuse(
        new RemoteMediaError(
          'protocol',
          `no authenticated "open" or "resume" within ${guard.limits.handshakeTimeoutMs} ms of connecting`,
        ),
        1008,
      ),
    );
    // Messages that arrive while the session is being found or made wait for it.
    let beginning: Promise<GatewaySession | undefined> | undefined;
    /** The client asked for application-level heartbeats (idle-heartbeat.ts). */
    let stopBeats: (() => void) | undefined;
    const queued: { bytes: Buffer; isBinary: boolean }[] = [];

    const handle = (bytes: Buffer, isBinary: boolean) => {
      if (!session) return;
      try {
        // ws makes each message for its listeners, and this is the one: the session's alone.
        if (isBinary)
          session.onData(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), true);
        else session.onControl(parseGatewayMessage(bytes.toString('utf8')));
      } catch (error) {
        session.fail(error);
      }
    };

    ws.on('message', (raw, isBinary) => {
      const bytes = raw instanceof Buffer ? raw : Buffer.concat(raw as Buffer[]);
      if (session) return handle(bytes, isBinary);
      if (beginning) return void queued.push({ bytes, isBinary });
      beginning = (async () => {
        if (isBinary) throw new RemoteMediaError('protocol', 'the first message must be "open"');
        const first = parseGatewayMessage(bytes.toString('utf8'));
        // From now, while the island opens too (a slow open is not a silent gateway).
        if ((first.type === 'open' || first.type === 'resume') && first.heartbeatMs) {
          stopBeats = startIdleHeartbeat(ws, socket, first.heartbeatMs);
        }
        return begin(ws, client, first, socket);
      })().then(
        (begun) => {
          session = begun;
          for (const early of queued.splice(0)) handle(early.bytes, early.isBinary);
          return begun;
        },
        (error: unknown) => {
          refuse(typed(error), 1008);
          return undefined;
        },
      );
    });
    ws.on('close', (code) => {
      clearInterval(heartbeat);
      stopBeats?.();
      void (beginning ?? Promise.resolve(undefined)).then((begun) =>
        begun?.onSocketClosed(ws, code),
      );
    });
    ws.on('error', () => ws.terminate());
  };

  // A port in use (or a host not on this machine) rejects startGateway: the command
  // says so in one line, a program can catch it; no 'error' event goes unheard.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8765, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'wss' : 'ws';
  const admin: AdminListener | undefined =
    options.adminPort === undefined
      ? undefined
      : await startAdminListener({
          host: adminHost,
          port: options.adminPort,
          token: options.adminToken,
          log,
          health,
          sessions: () => [...sessions.values()],
          metrics: () =>
            metrics.render({
              pythonProcesses: python.running.length + (sandboxed?.running.length ?? 0),
              containers: containers?.containers.size ?? 0,
              connections: guard.connections,
              connectionRefusals: guard.refused,
              authFailures: guard.authFailures,
              capacity: {
                sessions: ceilings.maxSessions,
                connections: guard.limits.maxConnections,
                pythonProcesses: options.maxPythonProcesses ?? options.python?.maxProcesses ?? 64,
              },
              name: options.name,
              draining: drain.active,
              containerPool: containers && {
                idle: containers.pool.idleCount,
                ...containers.pool.stats,
              },
            }),
        });
  log.info(
    {
      event: 'listening',
      url: `${scheme}://${options.host ?? '127.0.0.1'}:${port}/v1`,
      maxConnections: guard.limits.maxConnections,
      fdLimit: guard.fdLimit,
    },
    'gateway listening',
  );
  const gateway: Gateway = {
    url: `${scheme}://${options.host ?? '127.0.0.1'}:${port}/v1`,
    port,
    metrics,
    python,
    sandboxed,
    containers,
    adminUrl: admin?.url,
    connections: guard,
    log,
    async drain(timeoutMs: number) {
      const result = await drain.run(
        () => sessions.size,
        () => {
          log.info(
            { event: 'draining', sessions: sessions.size, timeoutMs },
            'gateway draining: no new sessions',
          );
          const message = JSON.stringify({
            type: 'draining',
            deadlineMs: timeoutMs,
          } satisfies GatewayMessage);
          for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(message);
        },
        timeoutMs,
      );
      log.info({ event: 'drained', ...result }, 'gateway drained');
      await gateway.close();
      return result;
    },
    async close() {
      guard.close();
      await admin?.close();
      for (const session of sessions.keys()) session.abort('the gateway is shutting down');
      for (const ws of wss.clients) ws.terminate();
      python.close();
      sandboxed?.close();
      await containers?.close();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return gateway;
}

/** Node types that each start a worker process (CPython, or a container's). */
/** Node types that each take a CPython process of a pool. */
const PYTHON_TYPES: readonly string[] = ['PythonNode', ...SPEECH_NODE_TYPES.map((t) => t.type)];
const PROCESS_TYPES: ReadonlySet<string> = new Set([...PYTHON_TYPES, CONTAINER_NODE]);

function typed(error: unknown): RemoteMediaError {
  return error instanceof RemoteMediaError
    ? error
    : new RemoteMediaError('usage', String((error as Error)?.message ?? error));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

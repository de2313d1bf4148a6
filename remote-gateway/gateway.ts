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
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import {
  GATEWAY_PROTOCOL_VERSION,
  type GatewayMessage,
  type Manifest,
  type NodeMetricsSnapshot,
  parseGatewayMessage,
  parseRemoteIsland,
  PipelineRunner,
  RemoteMediaError,
} from '../web/core/internal.ts';
import {
  type ContainerExecutorOptions,
  ContainerExecutor,
  routeContainers,
} from './container-executor.ts';
import { authorizeIsland, TokenSessions } from './gateway-grants.ts';
import { GatewaySession } from './gateway-session.ts';
import { type GatewayAuthority, gatewayAuthenticator } from './gateway-tokens.ts';
import { GatewayMetrics } from './metrics.ts';
import { type PythonExecutorOptions, PythonPool } from './python-process.ts';
import type { SandboxOptions } from './python-sandbox.ts';

export interface GatewayOptions {
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
  /** Nodes with `docker` run in containers; `false` refuses them. Default on. */
  containers?: ContainerExecutorOptions | false;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly metrics: GatewayMetrics;
  readonly python: PythonPool;
  /** The processes of client code, under bubblewrap (only with a tokenSecret). */
  readonly sandboxed: PythonPool | undefined;
  readonly containers: ContainerExecutor | undefined;
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
  };
  const origins = new Set(options.allowedOrigins ?? DEFAULT_ORIGINS);
  const perClient = new Map<string, number>();
  const sessions = new Set<GatewaySession>();
  /** Sessions opened with resume, by id, until they end for good. */
  const resumable = new Map<string, GatewaySession>();
  const metrics = new GatewayMetrics();
  const allowPickle = options.allowPickle ?? false;
  const python = new PythonPool({ ...options.python, allowPickle });
  const containers =
    options.containers === false
      ? undefined
      : new ContainerExecutor({ ...options.containers, allowPickle });
  const runner = new PipelineRunner({
    nodes: containers
      ? [python.nodeDefinition(), containers.nodeDefinition()]
      : [python.nodeDefinition()],
  });
  // Only signed tokens can allow client code: their CPython runs in bubblewrap.
  const sandboxed =
    options.tokenSecret === undefined
      ? undefined
      : new PythonPool(
          { ...options.python, spares: options.python?.spares ?? 1, allowPickle },
          options.sandbox ?? {},
        );
  const sandboxedRunner =
    sandboxed &&
    new PipelineRunner({
      nodes: containers
        ? [sandboxed.nodeDefinition(), containers.nodeDefinition()]
        : [sandboxed.nodeDefinition()],
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

  const onRequest = async (request: IncomingMessage, response: ServerResponse) => {
    // Pages of allowed origins may ask how the gateway is (the demo's status light).
    const origin = request.headers.origin;
    if (origin && (origins.has('*') || origins.has(origin))) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
    }
    if (request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ ok: true, protocol: GATEWAY_PROTOCOL_VERSION, sessions: sessions.size }),
      );
    } else if (request.url === '/metrics') {
      const nodes: NodeMetricsSnapshot[] = [];
      for (const session of sessions) nodes.push(...(await session.metrics()));
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(metrics.render(nodes, python.running.length, containers?.containers.size ?? 0));
    } else {
      response.writeHead(404).end();
    }
  };
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
    : createHttpServer(onRequest);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageSize,
    perMessageDeflate: options.compression ?? false,
  });

  server.on('upgrade', (request, socket, head) => {
    const origin = request.headers.origin;
    const refuse = (status: number, reason: string) => {
      metrics.refusedTotal++;
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n\r\n`);
    };
    if (request.url !== '/v1') return refuse(404, 'Not Found');
    if (origin !== undefined && !origins.has('*') && !origins.has(origin))
      return refuse(403, 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (origin !== undefined) originOf.set(ws, origin);
      accept(ws, request.socket.remoteAddress ?? '?');
    });
  });
  /** The page origin of each browser connection, for tokens scoped to origins. */
  const originOf = new WeakMap<WebSocket, string>();

  /** The first message of a connection: `open` makes a session, `resume` finds one. */
  const begin = async (
    ws: WebSocket,
    client: string,
    message: GatewayMessage,
  ): Promise<GatewaySession> => {
    if (message.type !== 'open' && message.type !== 'resume') {
      throw new RemoteMediaError('usage', 'the first message must be "open" or "resume"');
    }
    if (message.version !== GATEWAY_PROTOCOL_VERSION) {
      throw new RemoteMediaError(
        'usage',
        `protocol version ${message.version} is not served here; this gateway speaks ${GATEWAY_PROTOCOL_VERSION}`,
      );
    }
    // Signed, expiring, scoped (gateway-tokens.ts); checked again at every resume.
    const authority: GatewayAuthority = await authenticate(message.token);
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
    const asked = parseRemoteIsland(message.island);
    // Before anything is created, imported or spawned: what the token does not grant is refused.
    const permit = authorizeIsland(authority, asked.manifest, { origin: originOf.get(ws) });
    const island = { ...asked, manifest: route(asked.manifest) };
    if ((perClient.get(client) ?? 0) >= (options.maxSessionsPerClient ?? 16)) {
      throw new RemoteMediaError(
        'usage',
        `too many sessions from ${client} (limit ${options.maxSessionsPerClient ?? 16})`,
      );
    }
    const releaseToken = tokenSessions.admit(authority);
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    let opened: GatewaySession;
    try {
      const chosen = permit.sandboxed ? sandboxedRunner : runner;
      if (!chosen) throw new RemoteMediaError('unauthorized', 'client code needs a sandbox');
      opened = await GatewaySession.open(ws, chosen, island, limits, metrics, {
        clientMaxMessage: clientMaxOf(message),
        resumable: message.resume === true,
      });
    } catch (error) {
      perClient.set(client, (perClient.get(client) ?? 1) - 1);
      releaseToken();
      throw error;
    }
    sessions.add(opened);
    metrics.sessionsTotal++;
    metrics.sessionsActive++;
    if (opened.resumeKey) resumable.set(opened.sessionId, opened);
    void opened.ended.then(() => {
      sessions.delete(opened);
      resumable.delete(opened.sessionId);
      metrics.sessionsActive--;
      perClient.set(client, (perClient.get(client) ?? 1) - 1);
      releaseToken();
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
      } satisfies GatewayMessage),
    );
    return opened;
  };
  const clientMaxOf = (message: { maxMessageSize?: number }) =>
    Math.min(Number(message.maxMessageSize ?? maxMessageSize) || maxMessageSize, maxMessageSize);

  const accept = (ws: WebSocket, client: string) => {
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
      metrics.refusedTotal++;
      metrics.countError(error.kind);
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'error', error: error.toJSON() }));
        ws.close(code);
      }
    };
    const opening = setTimeout(
      () => refuse(new RemoteMediaError('usage', 'no open message within 10 s'), 1008),
      10_000,
    );
    // Messages that arrive while the session is being found or made wait for it.
    let beginning: Promise<GatewaySession | undefined> | undefined;
    const queued: { bytes: Buffer; isBinary: boolean }[] = [];

    const handle = (bytes: Buffer, isBinary: boolean) => {
      if (!session) return;
      try {
        if (isBinary)
          session.onData(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        else session.onControl(parseGatewayMessage(bytes.toString('utf8')));
      } catch (error) {
        session.fail(error);
      }
    };

    ws.on('message', (raw, isBinary) => {
      const bytes = raw instanceof Buffer ? raw : Buffer.concat(raw as Buffer[]);
      if (session) return handle(bytes, isBinary);
      if (beginning) return void queued.push({ bytes, isBinary });
      clearTimeout(opening);
      beginning = (async () => {
        if (isBinary) throw new RemoteMediaError('usage', 'the first message must be "open"');
        return begin(ws, client, parseGatewayMessage(bytes.toString('utf8')));
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
      clearTimeout(opening);
      void (beginning ?? Promise.resolve(undefined)).then((begun) =>
        begun?.onSocketClosed(ws, code),
      );
    });
    ws.on('error', () => ws.terminate());
  };

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 8765, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'wss' : 'ws';
  return {
    url: `${scheme}://${options.host ?? '127.0.0.1'}:${port}/v1`,
    port,
    metrics,
    python,
    sandboxed,
    containers,
    async close() {
      for (const session of sessions) session.abort('the gateway is shutting down');
      for (const ws of wss.clients) ws.terminate();
      python.close();
      sandboxed?.close();
      await containers?.close();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function typed(error: unknown): RemoteMediaError {
  return error instanceof RemoteMediaError
    ? error
    : new RemoteMediaError('usage', String((error as Error)?.message ?? error));
}

#!/usr/bin/env node
/**
 * `remotemedia-gateway [flags]` (in this repository `npm run gateway -- [flags]`):
 * starts the gateway. Every flag has an environment twin, its name in capitals
 * after REMOTEMEDIA_GATEWAY_ (`--allow-origin` is REMOTEMEDIA_GATEWAY_ALLOW_ORIGIN,
 * comma-separated for repeatable flags); `--help` lists them. Without a token, one
 * is made up and printed: the gateway never runs open. A bad flag or value is one
 * line on stderr and exit status 2; a gateway that cannot start, one line and 1.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importNodeModule } from '../web/core/node-module.ts';
import { type FlagSpec, flagHelp, integerFlag, parseFlags } from './cli-flags.ts';
import { type GatewayOptions, startGateway } from './gateway.ts';
import { installLastResort } from './last-resort.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';
import { relaunchWithGatewayFlags } from './node-flags.ts';
import { TOKEN_HELP, tokenCommand } from './token-command.ts';

const ENV_PREFIX = 'REMOTEMEDIA_GATEWAY_';
const FLAGS = {
  host: { type: 'string', value: 'HOST', help: 'interface to listen on (default 127.0.0.1)' },
  port: {
    type: 'string',
    value: 'PORT',
    help: 'port to listen on; 0 picks a free one (default 8765)',
  },
  'token-secret': {
    type: 'string',
    value: 'SECRET',
    help: 'HMAC secret of signed tokens (mint them with `remotemedia-gateway token`)',
  },
  token: {
    type: 'string',
    multiple: true,
    value: 'TOKEN',
    help: 'a token clients must present (default: one made up and printed)',
  },
  'allow-origin': {
    type: 'string',
    multiple: true,
    value: 'URL',
    help: 'a page origin allowed to connect (default: the demo on 127.0.0.1/localhost)',
  },
  'tls-cert': {
    type: 'string',
    value: 'PEM',
    help: 'certificate file: speak wss:// (with --tls-key)',
  },
  'tls-key': { type: 'string', value: 'PEM', help: 'private key file of --tls-cert' },
  'max-message-size': {
    type: 'string',
    value: 'BYTES',
    help: 'largest WebSocket message; larger frames travel in parts (default 1 MiB)',
  },
  'max-frame-bytes': {
    type: 'string',
    value: 'BYTES',
    help: 'largest frame reassembled from parts (default 64 MiB)',
  },
  'max-parts-per-frame': {
    type: 'string',
    value: 'N',
    help: 'parts one frame may travel in (default 4096)',
  },
  'max-held-bytes': {
    type: 'string',
    value: 'BYTES',
    help: "a session's input received and not yet taken by its pipeline (default 2 x --max-frame-bytes)",
  },
  'max-sessions-per-client': {
    type: 'string',
    value: 'N',
    help: 'sessions one client address may hold at once (default 16)',
  },
  // Operator ceilings (gateway-limits.ts): a manifest or a token may ask for less, never more.
  'max-sessions': { type: 'string', value: 'N', help: 'sessions open at once (default 512)' },
  'max-sessions-per-token': {
    type: 'string',
    value: 'N',
    help: 'sessions open at once under one token (default 64)',
  },
  'max-nodes-per-session': {
    type: 'string',
    value: 'N',
    help: 'nodes in one session (default 1024)',
  },
  'max-processes-per-session': {
    type: 'string',
    value: 'N',
    help: 'Python and container nodes in one session (default 16)',
  },
  'max-python-processes': {
    type: 'string',
    value: 'N',
    help: 'CPython processes at once, spares included (default 64)',
  },
  'container-max-memory-mb': {
    type: 'string',
    value: 'MB',
    help: 'largest docker.resource_limits.memory_mb a node may ask for (default 4096)',
  },
  'container-max-cpus': {
    type: 'string',
    value: 'CPUS',
    help: 'largest docker.resource_limits.cpu_cores (default 2)',
  },
  'allow-image': {
    type: 'string',
    multiple: true,
    value: 'IMAGE',
    help: 'an image nodes may name in docker.image (default: only --container-image)',
  },
  // Before authentication (connection-guard.ts).
  'handshake-timeout-ms': {
    type: 'string',
    value: 'MS',
    help: 'a connection must send a request or authenticate within this (default 5000)',
  },
  'max-connections': {
    type: 'string',
    value: 'N',
    help: 'TCP connections open at once, lowered to fit ulimit -n (default 10000)',
  },
  'max-connections-per-address': {
    type: 'string',
    value: 'N',
    help: 'connections open at once from one address, IPv6 by /64 (default 256)',
  },
  'max-auth-failures-per-address': {
    type: 'string',
    value: 'N',
    help: 'failed authentications before an address is refused for the window (default 10)',
  },
  'auth-failure-window-ms': {
    type: 'string',
    value: 'MS',
    help: 'the failure window, and how long an address is refused (default 60000)',
  },
  'fd-reserve': {
    type: 'string',
    value: 'N',
    help: 'file descriptors no connection may take: kept for workers (default 512)',
  },
  // Observability (gateway-admin.ts, log.ts).
  'admin-port': {
    type: 'string',
    value: 'PORT',
    help: 'serve /metrics and /sessions on this port (default: none; never on the public port)',
  },
  'admin-host': {
    type: 'string',
    value: 'HOST',
    help: 'interface of the admin port (default 127.0.0.1; any other needs --admin-token)',
  },
  'admin-token': {
    type: 'string',
    value: 'TOKEN',
    help: '/metrics and /sessions ask for it as a bearer token, 8 characters or more (default: none, loopback only)',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    help: `JSON log lines on stdout: ${LOG_LEVELS.join(', ')} (default info)`,
  },
  'idle-timeout-ms': { type: 'string', value: 'MS', help: 'end a silent session (default 60000)' },
  python: {
    type: 'string',
    value: 'PATH',
    help: 'CPython for PythonNode (default /usr/bin/python3)',
  },
  'python-path': {
    type: 'string',
    multiple: true,
    value: 'DIR',
    help: 'a folder searched for Python modules (after the remotemedia package), so a PythonNode class may be your own "module:Class"; may be given more than once',
  },
  'python-memory-limit': {
    type: 'string',
    value: 'BYTES',
    help: 'address space per node process (default 1 GiB)',
  },
  docker: {
    type: 'string',
    value: 'PATH',
    help: 'docker CLI of the container executor (default docker)',
  },
  'container-image': {
    type: 'string',
    value: 'IMAGE',
    help: 'image for nodes with docker (default remotemedia-python:latest)',
  },
  'no-containers': { type: 'boolean', help: 'refuse nodes with docker instead of running them' },
  'container-idle-ms': {
    type: 'string',
    value: 'MS',
    help: 'an idle pooled container is removed after this long (default 60000; 0 keeps none)',
  },
  nodes: {
    type: 'string',
    multiple: true,
    value: 'MODULE',
    help: 'an ES module file whose default export is an array of node definitions (your own node types)',
  },
  'allow-pickle': { type: 'boolean', help: 'accept pickled Python objects (refused by default)' },
  compression: { type: 'boolean', help: 'offer permessage-deflate (audio barely compresses)' },
  // Several gateways behind nginx (deploy/): a name routes resumes, SIGTERM drains.
  name: {
    type: 'string',
    value: 'NAME',
    help: "this gateway's name behind a balancer: resumes ask for it (?gateway=NAME)",
  },
  'drain-timeout-ms': {
    type: 'string',
    value: 'MS',
    help: 'on SIGTERM, sessions get this long to finish before they are cut (default 30000)',
  },
} as const satisfies Record<string, FlagSpec>;

const HELP = `usage: remotemedia-gateway [flags]   (in the repository: npm run gateway -- [flags])

Each flag may be set instead by its environment variable (repeatable flags: comma-separated).
${flagHelp(FLAGS, ENV_PREFIX)}`;

const args = process.argv.slice(2);
if (args[0] === 'token') {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(TOKEN_HELP);
    process.exit(0);
  }
  try {
    console.log(await tokenCommand(args.slice(1)));
    process.exit(0);
  } catch (error) {
    console.error(`remotemedia-gateway token: ${(error as Error).message} (see token --help)`);
    process.exit(2);
  }
}
if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}

// The gateway's Node flags (node-flags.ts): without them, this process runs the gateway
// as a child started with them, and waits for it.
const relaunched = relaunchWithGatewayFlags();
if (relaunched) await relaunched;

// Every flag is read and checked before anything starts: a mistake is one line.
let options: GatewayOptions;
let madeUpToken: string | undefined;
let drainTimeoutMs = 30_000;
try {
  const values = parseFlags(FLAGS, ENV_PREFIX, args);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  const staticTokens = values.token;
  const tokenSecret = values['token-secret'];
  if (staticTokens.length === 0 && tokenSecret === undefined) {
    madeUpToken = randomBytes(18).toString('base64url');
  }
  drainTimeoutMs = integerFlag(values['drain-timeout-ms'], 'drain-timeout-ms', 0) ?? 30_000;
  options = {
    host: values.host,
    port: integerFlag(values.port, 'port') ?? 8765,
    tokens: madeUpToken ? [madeUpToken] : staticTokens,
    tokenSecret,
    allowedOrigins: values['allow-origin'].length > 0 ? values['allow-origin'] : undefined,
    tls: values['tls-cert']
      ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) }
      : undefined,
    maxMessageSize: integerFlag(values['max-message-size'], 'max-message-size', 1),
    maxFrameBytes: integerFlag(values['max-frame-bytes'], 'max-frame-bytes', 1),
    maxPartsPerFrame: integerFlag(values['max-parts-per-frame'], 'max-parts-per-frame', 1),
    maxHeldBytes: integerFlag(values['max-held-bytes'], 'max-held-bytes', 1),
    maxSessionsPerClient: integerFlag(
      values['max-sessions-per-client'],
      'max-sessions-per-client',
      1,
    ),
    idleTimeoutMs: integerFlag(values['idle-timeout-ms'], 'idle-timeout-ms', 1),
    python: {
      python: values.python,
      pythonPath: values['python-path'],
      memoryLimitBytes: integerFlag(values['python-memory-limit'], 'python-memory-limit', 1),
    },
    allowPickle: values['allow-pickle'],
    compression: values.compression,
    containers: values['no-containers']
      ? false
      : {
          docker: values.docker,
          defaultImage: values['container-image'],
          maxMemoryMb: integerFlag(values['container-max-memory-mb'], 'container-max-memory-mb', 6),
          maxCpuCores: positiveFlag(values['container-max-cpus'], 'container-max-cpus'),
          idleTimeoutMs: integerFlag(values['container-idle-ms'], 'container-idle-ms', 0),
          allowedImages:
            values['allow-image'].length > 0
              ? [
                  ...values['allow-image'],
                  ...(values['container-image'] ? [values['container-image']] : []),
                ]
              : undefined,
        },
    maxSessions: integerFlag(values['max-sessions'], 'max-sessions', 1),
    maxSessionsPerToken: integerFlag(values['max-sessions-per-token'], 'max-sessions-per-token', 1),
    maxNodesPerSession: integerFlag(values['max-nodes-per-session'], 'max-nodes-per-session', 1),
    maxProcessesPerSession: integerFlag(
      values['max-processes-per-session'],
      'max-processes-per-session',
      1,
    ),
    maxPythonProcesses: integerFlag(values['max-python-processes'], 'max-python-processes', 1),
    handshakeTimeoutMs: integerFlag(values['handshake-timeout-ms'], 'handshake-timeout-ms', 1),
    maxConnections: integerFlag(values['max-connections'], 'max-connections', 1),
    maxConnectionsPerAddress: integerFlag(
      values['max-connections-per-address'],
      'max-connections-per-address',
      1,
    ),
    maxAuthFailuresPerAddress: integerFlag(
      values['max-auth-failures-per-address'],
      'max-auth-failures-per-address',
      1,
    ),
    authFailureWindowMs: integerFlag(values['auth-failure-window-ms'], 'auth-failure-window-ms', 1),
    fdReserve: integerFlag(values['fd-reserve'], 'fd-reserve', 0),
    adminPort: integerFlag(values['admin-port'], 'admin-port'),
    adminHost: values['admin-host'],
    adminToken: values['admin-token'],
    logLevel: logLevelFlag(values['log-level']),
    name: values.name,
    nodes: (
      await Promise.all(
        values.nodes.map((path) => importNodeModule(pathToFileURL(resolve(path)).href)),
      )
    ).flat(),
  };
} catch (error) {
  console.error(`remotemedia-gateway: ${(error as Error).message} (see --help)`);
  process.exit(2);
}

/** A positive number (CPUs may be fractional); undefined when the flag was not given. */
function positiveFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !(value > 0) || !Number.isFinite(value)) {
    throw new Error(`--${flag} ${JSON.stringify(text)}: expected a number > 0`);
  }
  return value;
}

function logLevelFlag(text: string | undefined): LogLevel {
  if (text === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new Error(
      `--log-level ${JSON.stringify(text)}: expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return text as LogLevel;
}

// Read once; no child process inherits the tokens or the token secret.
for (const name of Object.keys(process.env)) {
  if (name.startsWith('REMOTEMEDIA_GATEWAY_TOKEN')) delete process.env[name];
}
const gateway = await startGateway(options).catch((error: Error) => {
  console.error(`remotemedia-gateway: cannot start: ${error.message}`);
  process.exit(1);
});
// No fault may end the process: what escapes every session is logged and counted.
installLastResort(gateway.metrics, (event, error) =>
  gateway.log.error(
    { event, err: error },
    `gateway: ${event} (a bug: it should have failed one session)`,
  ),
);
console.log(`RemoteMedia gateway on ${gateway.url}`);
// After the banner: a fleet's launcher (deploy/cluster.ts) reads it for Prometheus.
if (gateway.adminUrl) console.log(`admin (metrics) on ${gateway.adminUrl}`);
if (madeUpToken) console.log(`token (made up for this run): ${madeUpToken}`);
const stop = () => void gateway.close().then(() => process.exit(0));
process.on('SIGINT', stop);
// SIGTERM drains (gateway-drain.ts): running sessions finish, then the process exits;
// a second SIGTERM stops at once.
process.once('SIGTERM', () => {
  process.on('SIGTERM', stop);
  void gateway.drain(drainTimeoutMs).then(() => process.exit(0));
});

/**
 * `npm run gateway -- [flags]`: starts the gateway. Every flag has an environment
 * twin (REMOTEMEDIA_GATEWAY_<FLAG>, e.g. REMOTEMEDIA_GATEWAY_PORT). Without a token,
 * one is made up and printed: the gateway never runs open.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGateway } from './gateway.ts';
import { installLastResort } from './last-resort.ts';

const env = (name: string) => process.env[`REMOTEMEDIA_GATEWAY_${name}`];
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: env('HOST') ?? '127.0.0.1' },
    port: { type: 'string', default: env('PORT') ?? '8765' },
    token: { type: 'string', multiple: true, default: env('TOKENS')?.split(',') ?? [] },
    'allow-origin': { type: 'string', multiple: true, default: env('ALLOW_ORIGINS')?.split(',') },
    'tls-cert': { type: 'string', default: env('TLS_CERT') },
    'tls-key': { type: 'string', default: env('TLS_KEY') },
    'max-message-size': { type: 'string', default: env('MAX_MESSAGE_SIZE') },
    'max-sessions-per-client': { type: 'string', default: env('MAX_SESSIONS_PER_CLIENT') },
    'idle-timeout-ms': { type: 'string', default: env('IDLE_TIMEOUT_MS') },
    python: { type: 'string', default: env('PYTHON') },
    'python-memory-limit': { type: 'string', default: env('PYTHON_MEMORY_LIMIT') },
    docker: { type: 'string', default: env('DOCKER') },
    'container-image': { type: 'string', default: env('CONTAINER_IMAGE') },
    'no-containers': { type: 'boolean', default: env('NO_CONTAINERS') === '1' },
    'allow-pickle': { type: 'boolean', default: env('ALLOW_PICKLE') === '1' },
    compression: { type: 'boolean', default: env('COMPRESSION') === '1' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run gateway -- [--host 127.0.0.1] [--port 8765] [--token T]...
  [--allow-origin URL]... [--tls-cert pem --tls-key pem] [--max-message-size bytes]
  [--max-sessions-per-client n] [--idle-timeout-ms ms] [--python /usr/bin/python3]
  [--python-memory-limit bytes] [--docker /usr/bin/docker]
  [--container-image remotemedia-python:latest] [--no-containers] [--allow-pickle]
  [--compression]
Each flag may also be set as REMOTEMEDIA_GATEWAY_<FLAG> (TOKENS and ALLOW_ORIGINS comma-separated).`);
  process.exit(0);
}

const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
const tokens = values.token.length > 0 ? values.token : [randomBytes(18).toString('base64url')];
if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
  console.error('gateway: --tls-cert and --tls-key go together');
  process.exit(2);
}
const gateway = await startGateway({
  host: values.host,
  port: Number(values.port),
  tokens,
  allowedOrigins: values['allow-origin'],
  tls: values['tls-cert']
    ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) }
    : undefined,
  maxMessageSize: number(values['max-message-size']),
  maxSessionsPerClient: number(values['max-sessions-per-client']),
  idleTimeoutMs: number(values['idle-timeout-ms']),
  python: { python: values.python, memoryLimitBytes: number(values['python-memory-limit']) },
  allowPickle: values['allow-pickle'],
  compression: values.compression,
  containers: values['no-containers']
    ? false
    : { docker: values.docker, defaultImage: values['container-image'] },
});
// No fault may end the process: what escapes every session is logged and counted.
installLastResort(gateway.metrics);
console.log(`RemoteMedia gateway on ${gateway.url}`);
if (values.token.length === 0) console.log(`token (made up for this run): ${tokens[0]}`);
const stop = () => void gateway.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

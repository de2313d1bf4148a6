/**
 * `remotemedia-gateway token [flags]`: mints a signed gateway token and prints it
 * (the same as mintGatewayToken in an app server). The secret is better passed as
 * REMOTEMEDIA_GATEWAY_TOKEN_SECRET than as --secret, which other users of the
 * machine can read in the process list.
 */
import { type FlagSpec, flagHelp, integerFlag, parseFlags } from './cli-flags.ts';
import { DEFAULT_EXPIRES_IN, type GatewayGrantsInput, mintGatewayToken } from './gateway-tokens.ts';

const ENV_PREFIX = 'REMOTEMEDIA_GATEWAY_TOKEN_';
const FLAGS = {
  secret: {
    type: 'string',
    value: 'SECRET',
    help: 'the gateway’s --token-secret (32+ characters)',
  },
  'node-types': {
    type: 'string',
    multiple: true,
    value: 'A,B',
    help: 'node types the holder may run ("*" for all); Python nodes are granted by --classes',
  },
  classes: {
    type: 'string',
    multiple: true,
    value: 'mod:Cls',
    help: 'Python classes a PythonNode may name ("mod:*" for a whole module)',
  },
  'client-code': {
    type: 'boolean',
    help: 'the holder may send its own Python (source, any class, pickles); it runs sandboxed',
  },
  'expires-in': {
    type: 'string',
    value: 'DURATION',
    help: `how long the token is valid: 15m, 1h, 3600 (default ${DEFAULT_EXPIRES_IN})`,
  },
  subject: { type: 'string', value: 'ID', help: 'who the token is for (its sub), for logs' },
  'max-sessions': { type: 'string', value: 'N', help: 'sessions the token may hold at once' },
  'max-nodes': { type: 'string', value: 'N', help: 'nodes one session may hold' },
  'max-memory-mb': { type: 'string', value: 'MB', help: 'memory one container node may ask for' },
  origin: {
    type: 'string',
    multiple: true,
    value: 'URL',
    help: 'a page origin the token may be used from (default: any the gateway allows)',
  },
} as const satisfies Record<string, FlagSpec>;

export const TOKEN_HELP = `usage: remotemedia-gateway token --secret S [flags]   (npm run gateway -- token ...)
Prints a signed gateway token. Each flag may be set instead by its environment variable.
${flagHelp(FLAGS, ENV_PREFIX)}`;

/** Values split on commas too, so `--node-types A,B` and `--node-types A --node-types B` agree. */
const list = (values: readonly string[]) =>
  values.flatMap((value) => value.split(',').map((item) => item.trim())).filter(Boolean);

/** Mints the token the flags describe; a bad flag is a `usage` error. */
export async function tokenCommand(args: readonly string[]): Promise<string> {
  const values = parseFlags(FLAGS, ENV_PREFIX, args);
  const grants: GatewayGrantsInput = {
    nodeTypes: list(values['node-types']),
    classes: list(values.classes),
    clientCode: values['client-code'],
    maxSessions: integerFlag(values['max-sessions'], 'max-sessions', 1),
    maxNodes: integerFlag(values['max-nodes'], 'max-nodes', 1),
    maxMemoryMb: integerFlag(values['max-memory-mb'], 'max-memory-mb', 1),
    ...(values.origin.length > 0 ? { origins: list(values.origin) } : {}),
  };
  const expires = values['expires-in'];
  return mintGatewayToken(values.secret ?? '', grants, {
    // A bare number is seconds, as in jose.
    expiresIn: expires !== undefined && /^\d+$/.test(expires) ? Number(expires) : expires,
    ...(values.subject === undefined ? {} : { subject: values.subject }),
  });
}

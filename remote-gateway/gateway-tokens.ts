/**
 * Signed gateway tokens: what a holder may run, for how long. An app server mints one
 * per visitor (mintGatewayToken) with the secret it shares with the gateway; the
 * gateway verifies it at every `open` and `resume` (verifyGatewayToken). They are
 * JWTs signed with HMAC-SHA256 (jose), as LiveKit's access tokens are: the gateway
 * keeps no table of tokens, and a token cannot be widened without the secret.
 *
 * A token means exactly what its grants say. Without `clientCode` it runs only the
 * node types and Python class paths it lists; with it, the holder may send its own
 * Python (inline source, any class path, pickles where the gateway unpickles), which
 * the gateway then runs only sandboxed.
 */
import { timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { RemoteMediaError } from '../web/core/internal.ts';

/** The audience every gateway token carries: a JWT minted for something else is refused. */
export const TOKEN_AUDIENCE = 'remotemedia-gateway';
/** A secret shorter than this would make tokens guessable offline. */
export const MIN_SECRET_LENGTH = 32;
/** A token's life when the minter names none. */
export const DEFAULT_EXPIRES_IN = '1h';

const grantsSchema = z.strictObject({
  /** Node types (manifest node_type) the holder may run; "*" for all. PassThrough is always allowed. */
  nodeTypes: z.array(z.string().min(1)).default([]),
  /**
   * Python classes ("module:Class", or "module:*" for every class of a module) a
   * PythonNode or a class-path node may name. A bare name means remotemedia.nodes:Name.
   */
  classes: z.array(z.string().min(1)).default([]),
  /** The holder may send its own code: inline source, any class path, pickles. Run sandboxed. */
  clientCode: z.boolean().default(false),
  /** Sessions this token may hold at once. */
  maxSessions: z.number().int().positive().optional(),
  /** Nodes one session may hold. */
  maxNodes: z.number().int().positive().optional(),
  /** Memory one container node may ask for, MiB. */
  maxMemoryMb: z.number().int().positive().optional(),
  /** Browser origins the token may be used from; absent: any the gateway allows. */
  origins: z.array(z.string().min(1)).optional(),
});

/** What a signed token grants (its claims, as written by mintGatewayToken). */
export type GatewayGrants = z.output<typeof grantsSchema>;
export type GatewayGrantsInput = z.input<typeof grantsSchema>;

/** Who is calling, once a token was checked. */
export type GatewayAuthority =
  /** A static operator token (the gateway's `tokens`): trusted, granted everything, not sandboxed. */
  | { kind: 'operator' }
  | {
      kind: 'signed';
      grants: GatewayGrants;
      /** The token's `sub`, when the minter named the visitor. */
      subject?: string;
      /** Identifies the token for per-token ceilings (its `jti`). */
      tokenId: string;
      /** Seconds since the epoch. */
      expiresAt: number;
    };

export interface MintOptions {
  /** A duration ("15m", "1h", 3600 for seconds) or an absolute Date. Default 1 h. */
  expiresIn?: string | number | Date;
  /** The visitor or app user the token is for (`sub`); shown in the gateway's logs. */
  subject?: string;
}

function secretBytes(secret: string, where: string): Uint8Array {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new RemoteMediaError(
      'usage',
      `${where}: the token secret must be a string of ${MIN_SECRET_LENGTH} characters or more (for example \`openssl rand -base64 32\`)`,
    );
  }
  return new TextEncoder().encode(secret);
}

/**
 * Mints a signed gateway token. Called by app servers (one token per visitor, short
 * lived) and by `remotemedia-gateway token`. Grants are checked here, so a typo in a
 * grant name fails at the minter, not silently at the gateway.
 */
export async function mintGatewayToken(
  secret: string,
  grants: GatewayGrantsInput,
  options: MintOptions = {},
): Promise<string> {
  const key = secretBytes(secret, 'mintGatewayToken');
  const parsed = grantsSchema.safeParse(grants);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RemoteMediaError(
      'usage',
      `mintGatewayToken: grants.${issue.path.join('.')}: ${issue.message} (valid grants: ${Object.keys(grantsSchema.shape).join(', ')})`,
      { path: `grants.${issue.path.join('.')}` },
    );
  }
  const expiresIn = options.expiresIn ?? DEFAULT_EXPIRES_IN;
  const jwt = new SignJWT({ grants: parsed.data })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setAudience(TOKEN_AUDIENCE)
    .setJti(crypto.randomUUID());
  if (options.subject !== undefined) jwt.setSubject(options.subject);
  try {
    jwt.setExpirationTime(expiresIn);
  } catch (error) {
    throw new RemoteMediaError(
      'usage',
      `mintGatewayToken: expiresIn ${JSON.stringify(expiresIn)} is not a duration ("15m", "1h", seconds) or a Date: ${(error as Error).message}`,
    );
  }
  return jwt.sign(key);
}

/**
 * Checks a token's signature, audience and expiry, and returns its grants. Any
 * failure is `unauthorized`, with the reason (expired, bad signature, malformed).
 */
export async function verifyGatewayToken(
  secret: string,
  token: string,
): Promise<Extract<GatewayAuthority, { kind: 'signed' }>> {
  const key = secretBytes(secret, 'verifyGatewayToken');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      audience: TOKEN_AUDIENCE,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (error) {
    throw new RemoteMediaError('unauthorized', `unauthorized: ${reason(error)}`);
  }
  const grants = grantsSchema.safeParse(payload.grants);
  if (!grants.success) {
    throw new RemoteMediaError(
      'unauthorized',
      `unauthorized: the token’s grants are malformed (${grants.error.issues[0]!.message})`,
    );
  }
  return {
    kind: 'signed',
    grants: grants.data,
    ...(payload.sub === undefined ? {} : { subject: payload.sub }),
    tokenId: String(payload.jti),
    expiresAt: payload.exp!,
  };
}

function reason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired; mint a new one';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'the token’s signature does not match this gateway’s secret';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `the token’s claim "${error.claim}" ${error.reason === 'missing' ? 'is missing' : 'is not valid here'}`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is not signed with HS256';
  return 'the token is not a gateway token (a JWT minted with mintGatewayToken)';
}

/**
 * The gateway's check of a presented token: a static operator token (compared in
 * constant time) is trusted with everything; anything else must be a token signed
 * with `tokenSecret`. Every refusal is `unauthorized` and says why.
 */
export function gatewayAuthenticator(options: {
  tokens?: readonly string[];
  tokenSecret?: string;
}): (token: unknown) => Promise<GatewayAuthority> {
  const tokens = options.tokens ?? [];
  if (tokens.some((t) => typeof t !== 'string' || t.length < 8)) {
    throw new RemoteMediaError('usage', 'every static gateway token needs 8 characters or more');
  }
  if (options.tokenSecret !== undefined) secretBytes(options.tokenSecret, 'tokenSecret');
  if (tokens.length === 0 && options.tokenSecret === undefined) {
    throw new RemoteMediaError(
      'usage',
      'the gateway needs a token secret (tokenSecret, --token-secret) or at least one static token (tokens, --token)',
    );
  }
  const statics = tokens.map((t) => Buffer.from(t));
  return async (token) => {
    if (typeof token !== 'string' || token === '') {
      throw new RemoteMediaError(
        'unauthorized',
        `unauthorized: a token is required, as a string (got ${token === undefined ? 'none' : typeof token})`,
      );
    }
    const given = Buffer.from(token);
    if (statics.some((t) => t.length === given.length && timingSafeEqual(t, given))) {
      return { kind: 'operator' };
    }
    if (options.tokenSecret === undefined) {
      throw new RemoteMediaError(
        'unauthorized',
        'unauthorized: the token is not one this gateway accepts',
      );
    }
    return verifyGatewayToken(options.tokenSecret, token);
  };
}

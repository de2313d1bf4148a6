/**
 * The gateway's structured log: one JSON object per line (pino), so an operator's
 * collector can filter on `event`. What is logged: connections refused and why,
 * failed authentications, sessions opened and ended, limits reached, worker deaths.
 * Never logged: tokens (a fingerprint stands in for one), frame payloads, manifests.
 *
 * A library must not write to its host's stdout unasked: startGateway is silent
 * unless given a logger or a level; the gateway's command logs at "info".
 */
import { createHash } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { RemoteMediaError } from '../web/core/internal.ts';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export interface LogOptions {
  /** A pino logger of the host's; takes precedence over `logLevel`. */
  logger?: Logger;
  /** Level of the gateway's own logger (JSON lines on stdout). Default "silent". */
  logLevel?: LogLevel;
}

export function gatewayLogger(options: LogOptions): Logger {
  if (options.logger) return options.logger.child({ component: 'gateway' });
  const level = options.logLevel ?? 'silent';
  if (!LOG_LEVELS.includes(level)) {
    throw new RemoteMediaError(
      'usage',
      `log level "${String(level)}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return pino({ level, base: { component: 'gateway' } });
}

/**
 * Names a token in logs and listings without revealing it: the first 12 hex digits
 * of its SHA-256 (enough to tell a deployment's tokens apart, useless to replay).
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

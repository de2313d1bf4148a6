/**
 * The gateway process's last resort: an unhandled rejection or an uncaught
 * exception is logged and counted (`unhandled` in GatewayMetrics), and the process
 * keeps serving its other sessions. Reaching this handler is a bug: every fault
 * should have been caught in its own session (gateway-session.ts), and tests assert
 * that attacks never get here. Installed by the gateway's command (main.ts), not by
 * startGateway: a library must not take over its host's process-wide handlers.
 */

/** What the handler counts into: a GatewayMetrics, or anything with the counter. */
export interface UnhandledCounter {
  unhandled: number;
}

export type LastResortLog = (
  event: 'unhandledRejection' | 'uncaughtException',
  error: unknown,
) => void;

const counters = new Set<UnhandledCounter>();
let log: LastResortLog = (event, error) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: `gateway: ${event}`, error: detail })}\n`,
  );
};

const onRejection = (reason: unknown) => record('unhandledRejection', reason);
const onException = (error: unknown) => record('uncaughtException', error);

function record(event: 'unhandledRejection' | 'uncaughtException', error: unknown): void {
  for (const counter of counters) counter.unhandled++;
  try {
    log(event, error);
  } catch {
    // A failing logger must not turn the last resort into a crash.
  }
}

/**
 * Counts this process's unhandled rejections and exceptions into `counter` from now
 * on (several counters may be installed; the handlers are installed once). Returns
 * the function that stops counting into it; the handlers go with the last counter.
 */
export function installLastResort(counter: UnhandledCounter, logger?: LastResortLog): () => void {
  if (logger) log = logger;
  if (counters.size === 0) {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  }
  counters.add(counter);
  return () => {
    if (!counters.delete(counter) || counters.size > 0) return;
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}

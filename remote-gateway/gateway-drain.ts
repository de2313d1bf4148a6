/**
 * A gateway's graceful drain (SIGTERM with --drain-timeout-ms): it takes no new
 * sessions, tells its clients, lets the running sessions finish, and only then
 * closes. Behind nginx (deploy/nginx.conf) a draining gateway answers 503 to a new
 * session's upgrade, so nginx tries the next gateway (`proxy_next_upstream
 * http_503`) and marks this one down for a while (passive health, max_fails); a
 * resume (`?gateway=<name>`) is still let in, so its session can finish here.
 */
import { RemoteMediaError } from '../web/core/internal.ts';

export interface DrainResult {
  /** Sessions that ended on their own during the drain. */
  finished: number;
  /** Sessions still running at the deadline (the close then aborts them). */
  cut: number;
}

export class GatewayDrain {
  private draining = false;
  private started: Promise<DrainResult> | undefined;
  private wakeIdle: (() => void) | undefined;

  /** True once a drain began: no session may be opened any more. */
  get active(): boolean {
    return this.draining;
  }

  /** Throws for an `open` during the drain (a resume is still welcome). */
  refuseOpen(name: string | undefined): void {
    if (!this.draining) return;
    throw new RemoteMediaError(
      'session_closed',
      `${name ? `gateway ${name}` : 'this gateway'} is draining (shutting down): it takes no new sessions; connect again to reach another gateway`,
    );
  }

  /** Called by the gateway each time a session ends, with how many are left. */
  sessionEnded(left: number): void {
    if (left === 0) this.wakeIdle?.();
  }

  /**
   * Begins the drain (once; later calls get the same result): `notify` tells the
   * clients, then it waits until `count()` is 0 or `timeoutMs` passed.
   */
  run(count: () => number, notify: () => void, timeoutMs: number): Promise<DrainResult> {
    this.started ??= (async () => {
      this.draining = true;
      const before = count();
      notify();
      if (before > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          this.wakeIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const cut = count();
      return { finished: before - cut, cut };
    })();
    return this.started;
  }
}

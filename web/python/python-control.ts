/**
 * The control block shared by the page and the Python worker (a SharedArrayBuffer):
 * Pyodide's interrupt flag, and when the current Python call started. The worker
 * stamps calls (enter/leave); the page's watchdog reads the stamp and raises
 * KeyboardInterrupt in a call that overran its deadline or whose session ended.
 * Barge-in uses the same flag with another signal (requestBargeIn): the worker's
 * handler interrupts the island named here at once, from inside the running call.
 */
// Bytes 0..3: the Int32 Pyodide polls (2 = SIGINT; 10 = barge-in). Bytes 4..7: the
// Int32 number of the island a barge-in is for. Bytes 8..15: a BigInt64, the epoch
// ms when the current call started, 0 when idle. Bytes 16..23: a BigInt64, the
// barge-in's stamp (µs). Both sides go through Atomics: a plain Float64 store is not
// guaranteed to be seen whole (or at all promptly) by the other thread, and Atomics
// on a 64-bit integer slot are.
const INTERRUPT = 0;
/** SIGINT: Pyodide raises KeyboardInterrupt. */
const SIGINT = 2;
/** What barge-in writes: remotemedia.node_host.BARGE_IN_SIGNAL (SIGUSR1). */
export const BARGE_IN_SIGNAL = 10;

export const PYTHON_CONTROL_BYTES = 24;

export class PythonControl {
  readonly interrupt: Int32Array;
  private readonly island: Int32Array;
  private readonly busy: BigInt64Array;
  private readonly stamp: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.interrupt = new Int32Array(buffer, 0, 1);
    this.island = new Int32Array(buffer, 4, 1);
    this.busy = new BigInt64Array(buffer, 8, 1);
    this.stamp = new BigInt64Array(buffer, 16, 1);
  }

  static create(): PythonControl {
    return new PythonControl(new SharedArrayBuffer(PYTHON_CONTROL_BYTES));
  }

  enter(): void {
    // An interrupt aimed at a call that already ended must not hit this one.
    Atomics.store(this.interrupt, INTERRUPT, 0);
    Atomics.store(this.busy, 0, BigInt(Date.now()));
  }

  leave(): void {
    Atomics.store(this.busy, 0, 0n);
  }

  /** How long the current call has run, or 0 when Python is idle. */
  busyMs(): number {
    const since = Number(Atomics.load(this.busy, 0));
    return since === 0 ? 0 : Date.now() - since;
  }

  /** Raises KeyboardInterrupt in the running Python code at its next check. */
  raiseInterrupt(): void {
    Atomics.store(this.interrupt, INTERRUPT, SIGINT);
  }

  /**
   * The page: barge-in for the worker's island number `island`, stamped, to be
   * taken inside the running Python call (which holds the worker's thread) at its
   * next check. A deadline's KeyboardInterrupt already asked for is not overwritten.
   * Any thread; never waits.
   */
  requestBargeIn(island: number, timestampUs: number): void {
    Atomics.store(this.island, 0, island);
    Atomics.store(this.stamp, 0, BigInt(Math.round(timestampUs)));
    Atomics.compareExchange(this.interrupt, INTERRUPT, 0, BARGE_IN_SIGNAL);
  }

  /** The worker, in its signal handler: the barge-in asked for (island number, stamp µs). */
  bargeIn(): { island: number; timestampUs: number } {
    return {
      island: Atomics.load(this.island, 0),
      timestampUs: Number(Atomics.load(this.stamp, 0)),
    };
  }
}

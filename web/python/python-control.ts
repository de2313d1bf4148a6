/**
 * The control block shared by the page and the Python worker (a SharedArrayBuffer):
 * Pyodide's interrupt flag, and when the current Python call started. The worker
 * stamps calls (enter/leave); the page's watchdog reads the stamp and raises
 * KeyboardInterrupt in a call that overran its deadline or whose session ended.
 */
// Bytes 0..3: the Int32 Pyodide polls (2 = SIGINT). Bytes 8..15: a BigInt64, the
// epoch ms when the current call started, 0 when idle. Both sides go through
// Atomics: a plain Float64 store is not guaranteed to be seen whole (or at all
// promptly) by the other thread, and Atomics on a 64-bit integer slot are.
const INTERRUPT = 0;

export const PYTHON_CONTROL_BYTES = 16;

export class PythonControl {
  readonly interrupt: Int32Array;
  private readonly busy: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.interrupt = new Int32Array(buffer, 0, 1);
    this.busy = new BigInt64Array(buffer, 8, 1);
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
    Atomics.store(this.interrupt, INTERRUPT, 2);
  }
}

/**
 * The control block shared by the page and the Python worker (a SharedArrayBuffer):
 * Pyodide's interrupt flag, and when the current Python call started. The worker
 * stamps calls (enter/leave); the page's watchdog reads the stamp and raises
 * KeyboardInterrupt in a call that overran its deadline or whose session ended.
 */
// Bytes 0..3: the Int32 Pyodide polls (2 = SIGINT). Bytes 8..15: a Float64, the
// epoch ms when the current call started, 0 when idle.
const INTERRUPT = 0;

export const PYTHON_CONTROL_BYTES = 16;

export class PythonControl {
  readonly interrupt: Int32Array;
  private readonly busy: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.interrupt = new Int32Array(buffer, 0, 1);
    this.busy = new Float64Array(buffer, 8, 1);
  }

  static create(): PythonControl {
    return new PythonControl(new SharedArrayBuffer(PYTHON_CONTROL_BYTES));
  }

  enter(): void {
    // An interrupt aimed at a call that already ended must not hit this one.
    Atomics.store(this.interrupt, INTERRUPT, 0);
    this.busy[0] = Date.now();
  }

  leave(): void {
    this.busy[0] = 0;
  }

  /** How long the current call has run, or 0 when Python is idle. */
  busyMs(): number {
    const since = this.busy[0]!;
    return since === 0 ? 0 : Date.now() - since;
  }

  /** Raises KeyboardInterrupt in the running Python code at its next check. */
  raiseInterrupt(): void {
    Atomics.store(this.interrupt, INTERRUPT, 2);
  }
}

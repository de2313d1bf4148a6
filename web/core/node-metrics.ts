/**
 * Per-node metrics, recorded by the executor on every item. Recording allocates
 * nothing; percentiles are computed on demand over the last WINDOW durations.
 */

const WINDOW = 1024;

export interface NodeMetricsSnapshot {
  nodeId: string;
  itemsIn: number;
  itemsOut: number;
  /**
   * Processing time per input, in milliseconds, over the most recent inputs: from
   * the node's call (process) to its return. While a node streams — its next input
   * already queued as a call returns, and that call's output handed on at once —
   * one clock read ends a call and starts the next (a clock read costs 0.25-1 µs
   * in Chromium), so a call's time then also holds the synchronous hand-off of the
   * previous call's output (a push into the next node's inbox, or into a channel
   * or port for a sink) and the taking of its own input. After any wait (an empty
   * inbox, a full downstream, an async output) a call is timed from its own start.
   */
  processingMs: { p50: number; p99: number; mean: number; total: number };
  /** Items waiting in the node's input queue now, and the most at any time. */
  queueDepth: number;
  queueHighWater: number;
  /** Seconds of audio received. */
  audioSeconds: number;
  /**
   * Processing time divided by the duration of the audio processed: below 1 is
   * faster than real time. Undefined until the node has received audio.
   */
  realTimeFactor: number | undefined;
  /** Times barge-in interrupted this node (its `bargeIn.to` entry). */
  interrupts: number;
  /** Items dropped because an interrupt made them stale: inputs older than it, outputs after it. */
  droppedOnInterrupt: number;
}

export class NodeMetrics {
  itemsIn = 0;
  itemsOut = 0;
  audioSeconds = 0;
  interrupts = 0;
  droppedOnInterrupt = 0;
  private totalMs = 0;
  /**
   * Ring of recent durations, WINDOW of them, made at the first record (a node that
   * never runs costs nothing). It was a plain array grown by push to WINDOW: nine
   * reallocations over a node's first 1024 inputs, each copy living until the next, so
   * long that V8 promoted them all into the old generation (about 27 KB per node and
   * session, the gateway's largest promotion per frame in short sessions).
   */
  private recent: Float64Array | undefined;
  private count = 0;

  constructor(readonly nodeId: string) {}

  recordProcessing(ms: number): void {
    (this.recent ??= new Float64Array(WINDOW))[this.count % WINDOW] = ms;
    this.count++;
    this.totalMs += ms;
  }

  /** Adds time to the latest record (a streaming node producing its items). */
  addToLast(ms: number): void {
    if (this.count === 0) {
      this.recordProcessing(ms);
      return;
    }
    this.recent![(this.count - 1) % WINDOW]! += ms;
    this.totalMs += ms;
  }

  snapshot(queueDepth: number, queueHighWater: number): NodeMetricsSnapshot {
    const n = Math.min(this.count, WINDOW);
    const sorted = (this.recent ?? new Float64Array(0)).slice(0, n).sort();
    const at = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return {
      nodeId: this.nodeId,
      itemsIn: this.itemsIn,
      itemsOut: this.itemsOut,
      processingMs: {
        p50: at(0.5),
        p99: at(0.99),
        mean: this.count === 0 ? 0 : this.totalMs / this.count,
        total: this.totalMs,
      },
      queueDepth,
      queueHighWater,
      audioSeconds: this.audioSeconds,
      realTimeFactor: this.audioSeconds > 0 ? this.totalMs / 1000 / this.audioSeconds : undefined,
      interrupts: this.interrupts,
      droppedOnInterrupt: this.droppedOnInterrupt,
    };
  }
}

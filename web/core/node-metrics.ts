/**
 * Per-node metrics, recorded by the executor on every item. Recording allocates
 * nothing; percentiles are computed on demand over the last WINDOW durations.
 */

const WINDOW = 1024;

export interface NodeMetricsSnapshot {
  nodeId: string;
  itemsIn: number;
  itemsOut: number;
  /** Processing time per input, in milliseconds, over the most recent inputs. */
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
  /** Ring of recent durations; a plain array growing to WINDOW, so sessions start cheap. */
  private readonly recent: number[] = [];
  private count = 0;

  constructor(readonly nodeId: string) {}

  recordProcessing(ms: number): void {
    if (this.count < WINDOW) this.recent.push(ms);
    else this.recent[this.count % WINDOW] = ms;
    this.count++;
    this.totalMs += ms;
  }

  /** Adds time to the latest record (a streaming node producing its items). */
  addToLast(ms: number): void {
    if (this.count === 0) {
      this.recordProcessing(ms);
      return;
    }
    this.recent[(this.count - 1) % WINDOW]! += ms;
    this.totalMs += ms;
  }

  snapshot(queueDepth: number, queueHighWater: number): NodeMetricsSnapshot {
    const n = this.recent.length;
    const sorted = Float64Array.from(this.recent).sort();
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

/**
 * NodeMetrics' ring of recent processing times: percentiles over the last 1024 inputs,
 * before any, part-filled and after it wrapped, and addToLast on the latest record.
 */
import { describe, expect, it } from 'vitest';
import { NodeMetrics } from './node-metrics.ts';

describe('NodeMetrics', () => {
  it('reports zeros before any input', () => {
    const { processingMs } = new NodeMetrics('n').snapshot(0, 0);
    expect(processingMs).toEqual({ p50: 0, p99: 0, mean: 0, total: 0 });
  });

  it('takes percentiles over the inputs so far while the ring is part-filled', () => {
    const metrics = new NodeMetrics('n');
    for (const ms of [5, 1, 3, 2, 4]) metrics.recordProcessing(ms);
    const { processingMs } = metrics.snapshot(0, 0);
    expect(processingMs).toEqual({ p50: 3, p99: 5, mean: 3, total: 15 });
  });

  it('keeps the last 1024 inputs once the ring wrapped (mean and total over all)', () => {
    const metrics = new NodeMetrics('n');
    for (let i = 0; i < 3000; i++) metrics.recordProcessing(i);
    const { processingMs } = metrics.snapshot(0, 0);
    // The window holds 1976..2999: its 512th and 1013th smallest.
    expect(processingMs.p50).toBe(1976 + 512);
    expect(processingMs.p99).toBe(1976 + 1013);
    expect(processingMs.total).toBe((2999 * 3000) / 2);
    expect(processingMs.mean).toBe(2999 / 2);
  });

  it('adds streaming time to the latest record, in the ring too', () => {
    const metrics = new NodeMetrics('n');
    metrics.addToLast(2); // no record yet: becomes the first
    for (let i = 0; i < 1030; i++) metrics.recordProcessing(1);
    metrics.addToLast(100);
    const { processingMs } = metrics.snapshot(0, 0);
    // 1023 ones and one 101 in the window: the 101 is above p99's rank (1013).
    expect(processingMs.p50).toBe(1);
    expect(processingMs.p99).toBe(1);
    expect(processingMs.total).toBe(2 + 1030 + 100);
    for (let i = 0; i < 20; i++) metrics.addToLast(100);
    expect(metrics.snapshot(0, 0).processingMs.p99).toBe(1);
    expect(metrics.snapshot(0, 0).processingMs.total).toBe(2 + 1030 + 2100);
  });
});

/**
 * Attack on NodeMetrics' Float64Array ring: snapshots equal a reference computed from
 * the last 1024 records kept in a plain list (addToLast applied to the latest), for
 * random sequences under fast-check and at the ring's edges (1023, 1024, 1025, 2047,
 * 2048, 2049 records); a node that never records makes no ring, snapshots included.
 * Durations here include 0, fractions and huge values; negative and NaN ones cannot
 * come from the executor (its only caller: performance.now() differences, a NaN mark
 * replaced by a fresh read), and are ordered as Float64Array.sort orders them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeMetrics } from './node-metrics.ts';

const WINDOW = 1024;

type Step = { add: boolean; ms: number };

function reference(steps: Step[]) {
  const records: number[] = [];
  let total = 0;
  for (const { add, ms } of steps) {
    if (add && records.length > 0) records[records.length - 1]! += ms;
    else records.push(ms);
    total += ms;
  }
  const window = Float64Array.from(records.slice(-WINDOW)).sort();
  const n = window.length;
  const at = (q: number) => (n === 0 ? 0 : window[Math.min(n - 1, Math.floor(q * n))]!);
  return {
    p50: at(0.5),
    p99: at(0.99),
    mean: records.length === 0 ? 0 : total / records.length,
    total,
  };
}

function run(steps: Step[]) {
  const metrics = new NodeMetrics('n');
  for (const { add, ms } of steps) {
    if (add) metrics.addToLast(ms);
    else metrics.recordProcessing(ms);
  }
  return metrics;
}

const ring = (metrics: NodeMetrics) =>
  (metrics as unknown as { recent: Float64Array | undefined }).recent;

const msArb = fc.oneof(
  fc.constant(0),
  fc.double({ min: 0, max: 50, noNaN: true }),
  fc.double({ min: 0, max: 1e9, noNaN: true }),
  fc.integer({ min: 0, max: 100 }),
);

describe('NodeMetrics ring against a reference (fast-check)', () => {
  it('random records and addToLast: p50, p99, mean, total as the reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ add: fc.boolean(), ms: msArb }), { maxLength: 3000, size: 'max' }),
        (steps) => {
          expect(run(steps).snapshot(0, 0).processingMs).toEqual(reference(steps));
        },
      ),
      { numRuns: 200, endOnFailure: true }, // a failing 3000-step case shrinks for minutes
    );
  });

  it('at the ring edges: 1023, 1024, 1025, 2047, 2048, 2049 records, distinct values', () => {
    for (const count of [1, 1023, 1024, 1025, 2047, 2048, 2049]) {
      // Descending values, so the window (the last 1024) is the smallest ones: a ring
      // that kept an old slot would show it as p99.
      const steps = Array.from({ length: count }, (_, i) => ({ add: false, ms: count - i }));
      const metrics = run(steps);
      expect(metrics.snapshot(0, 0).processingMs, `${count} records`).toEqual(reference(steps));
      // addToLast after the wrap lands on the latest record's slot.
      metrics.addToLast(1e6);
      steps.push({ add: true, ms: 1e6 });
      expect(metrics.snapshot(0, 0).processingMs, `${count} + addToLast`).toEqual(reference(steps));
      expect(ring(metrics)!.length).toBe(WINDOW);
    }
  });

  it('a node that never records makes no ring; the first addToLast makes it', () => {
    const metrics = new NodeMetrics('idle');
    metrics.itemsIn = 5;
    expect(metrics.snapshot(3, 4).processingMs).toEqual({ p50: 0, p99: 0, mean: 0, total: 0 });
    expect(ring(metrics)).toBeUndefined();
    metrics.addToLast(2);
    expect(ring(metrics)).toBeInstanceOf(Float64Array);
    expect(metrics.snapshot(0, 0).processingMs).toEqual({ p50: 2, p99: 2, mean: 2, total: 2 });
  });

  it('negative and NaN durations (no caller makes them) sort as Float64Array.sort does', () => {
    const steps = [-1, 3, Number.NaN, 2].map((ms) => ({ add: false, ms }));
    const got = run(steps).snapshot(0, 0).processingMs;
    // [-1, 2, 3, NaN]: NaN last; the total carries it.
    expect(got.p50).toBe(3);
    expect(got.p99).toBeNaN();
    expect(got.total).toBeNaN();
  });
});

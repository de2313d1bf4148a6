import { describe, expect, it } from 'vitest';
import { aliasing, sineQuality } from '../audio/resample-quality.ts';

/**
 * Our resampler (default quality) against the exact sine and against sox (the
 * Debian package) on the same input. Every input stays inside [-1, 1] and sox must
 * not report clipping: clipped input once made sox's figures meaningless.
 */
describe('Resample quality against sox', () => {
  const pairs: [number, number][] = [
    [48000, 16000],
    [44100, 16000],
    [16000, 48000],
    [22050, 44100],
    [8000, 24000],
  ];

  it.each(pairs)(
    '%i -> %i: in-band sines >= 130 dB SNR (sox measured alongside, unclipped)',
    async (from, to) => {
      const rows = await sineQuality(from, to, [0.1, 0.5, 0.9]);
      for (const row of rows) {
        console.log(
          `${row.pair} ${row.freq} Hz: ours ${row.oursSnrDb.toFixed(1)} dB, sox ${row.soxSnrDb.toFixed(1)} dB`,
        );
        expect(row.oursSnrDb, `${row.freq} Hz`).toBeGreaterThan(130);
        expect(row.soxWarnings, `sox on ${row.freq} Hz`).toBe('');
        expect(Number.isFinite(row.soxSnrDb)).toBe(true);
      }
    },
  );

  it.each([
    [48000, 16000],
    [44100, 16000],
    [44100, 22050],
  ])('%i -> %i: content above the new Nyquist is suppressed by >= 130 dB', async (from, to) => {
    const result = await aliasing(from, to);
    console.log(
      `${result.pair} aliasing: ours ${result.oursDb.toFixed(1)} dB, sox ${result.soxDb.toFixed(1)} dB`,
    );
    expect(result.inputPeak).toBeCloseTo(0.6, 5);
    expect(result.soxWarnings).toBe('');
    expect(result.oursDb).toBeLessThan(-130);
    // sox, unclipped, suppresses it too (it let -20 dB through only when it clipped).
    expect(result.soxDb).toBeLessThan(-100);
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESAMPLE_QUALITY,
  designHalfband,
  designPolyphaseFilter,
  EQUIRIPPLE_MIN_ATTENUATION_DB,
  EQUIRIPPLE_IMAGE_ATTENUATION_DB,
  EQUIRIPPLE_PASS_RIPPLE,
  EQUIRIPPLE_STOP_MARGIN_DB,
  HALFBAND_MIN_ATTENUATION_DB,
  RESAMPLE_QUALITIES,
  type ResampleQuality,
} from '../../web/core/nodes/audio/resample-filter.ts';
import {
  EDGE_LOBES,
  EDGE_REFINE,
  GRID_DENSITY,
  MAX_REMEZ_TAPS,
  REMEZ_MAX_ITERATIONS,
} from '../../web/core/nodes/audio/resample-remez.ts';

/**
 * The Python Resample (python-packages/remotemedia/nodes/audio/resample.py) designs
 * the core's filters from the same table and half-band threshold; a value changed
 * on one side only would make the two paths of one pipeline differ.
 */
describe('the Python audio nodes share the core constants', () => {
  it("Resample's qualities and default are the core's", () => {
    const out = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json\nfrom remotemedia.nodes.audio.resample import QUALITIES, DEFAULT_QUALITY, ' +
          'HALFBAND_MIN_ATTENUATION_DB as H\n' +
          'print(json.dumps({"qualities": QUALITIES, "default": DEFAULT_QUALITY, "halfband": H}))',
      ],
      { env: { ...process.env, PYTHONPATH: 'python-packages' }, encoding: 'utf8' },
    );
    const python = JSON.parse(out) as {
      qualities: Record<string, number[]>;
      default: string;
      halfband: number;
    };
    expect(python.default).toBe(DEFAULT_RESAMPLE_QUALITY);
    // Which qualities get half-band first stages (planResample / plan_resample).
    expect(python.halfband).toBe(HALFBAND_MIN_ATTENUATION_DB);
    expect(python.qualities).toEqual(
      Object.fromEntries(
        Object.entries(RESAMPLE_QUALITIES).map(([name, q]) => [
          name,
          [q.zeroCrossings, q.attenuationDb],
        ]),
      ),
    );
  });

  it("the equiripple design's constants are the core's", () => {
    const out = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json\nfrom remotemedia.nodes.audio import resample as r, resample_remez as z\n' +
          'print(json.dumps([r.EQUIRIPPLE_PASS_RIPPLE, r.EQUIRIPPLE_STOP_MARGIN_DB, ' +
          'r.EQUIRIPPLE_MIN_ATTENUATION_DB, z.GRID_DENSITY, z.EDGE_LOBES, z.EDGE_REFINE, ' +
          'z.MAX_REMEZ_TAPS, z.REMEZ_MAX_ITERATIONS, r.EQUIRIPPLE_IMAGE_ATTENUATION_DB]))',
      ],
      { env: { ...process.env, PYTHONPATH: 'python-packages' }, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual([
      EQUIRIPPLE_PASS_RIPPLE,
      EQUIRIPPLE_STOP_MARGIN_DB,
      EQUIRIPPLE_MIN_ATTENUATION_DB,
      GRID_DENSITY,
      EDGE_LOBES,
      EDGE_REFINE,
      MAX_REMEZ_TAPS,
      REMEZ_MAX_ITERATIONS,
      EQUIRIPPLE_IMAGE_ATTENUATION_DB,
    ]);
  });

  // The Remez exchange runs on both sides: the same length and, to a float32 rounding
  // of the tiniest taps, the same table, with numpy and in plain Python.
  it.each([
    [24000, 16000, 'high'],
    [22050, 44100, 'high'],
    [32000, 16000, 'best'],
    [44100, 16000, 'high'],
  ] as [number, number, ResampleQuality][])(
    "%i -> %i %s: the Python design is the core's table",
    (from, to, quality) => {
      const core = designPolyphaseFilter(from, to, quality);
      for (const numpy of [true, false]) {
        const out = execFileSync(
          '/usr/bin/python3',
          [
            '-c',
            'import json, sys\nfrom remotemedia.nodes.audio import resample as r\n' +
              `f = r._design(${from}, ${to}, "${quality}", ${numpy ? 'True' : 'False'})\n` +
              'print(json.dumps({"design": f.design, "taps": f.taps, "up": f.up, "table": list(f.table)}))',
          ],
          { env: { ...process.env, PYTHONPATH: 'python-packages' }, encoding: 'utf8' },
        );
        const python = JSON.parse(out) as {
          design: string;
          taps: number;
          up: number;
          table: number[];
        };
        expect(python.design, `numpy ${numpy}`).toBe(core.design);
        expect([python.taps, python.up]).toEqual([core.taps, core.up]);
        expect(python.table).toHaveLength(core.table.length);
        for (let i = 0; i < core.table.length; i++) {
          expect(Math.abs(python.table[i]! - core.table[i]!), `tap ${i}`).toBeLessThan(1e-9);
        }
      }
    },
  );

  it("the half-band stages are the core's (48 -> 24, 44.1 -> 22.05, 24 -> 12 kHz at 140 dB)", () => {
    const edges = [16000 / 2 / 48000, 16000 / 2 / 44100, 8000 / 2 / 24000];
    const out = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json\nfrom remotemedia.nodes.audio.resample_halfband import design_halfband\n' +
          `print(json.dumps([(lambda f: [f.half, list(f.taps), f.centre])(design_halfband(e, 140)) for e in ${JSON.stringify(edges)}]))`,
      ],
      { env: { ...process.env, PYTHONPATH: 'python-packages' }, encoding: 'utf8' },
    );
    const python = JSON.parse(out) as [number, number[], number][];
    edges.forEach((edge, i) => {
      const core = designHalfband(edge, 140);
      expect(python[i]![0]).toBe(core.half);
      expect(python[i]![1]).toEqual([...core.taps]);
      expect(python[i]![2]).toBeCloseTo(core.centre, 14);
    });
  });
});

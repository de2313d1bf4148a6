import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESAMPLE_QUALITY,
  HALFBAND_MIN_ATTENUATION_DB,
  RESAMPLE_QUALITIES,
} from '../../web/core/nodes/audio/resample-filter.ts';

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
});

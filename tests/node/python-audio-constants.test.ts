import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESAMPLE_QUALITY,
  RESAMPLE_QUALITIES,
} from '../../web/core/nodes/audio/resample-filter.ts';

/**
 * The Python Resample (python-packages/remotemedia/nodes/audio/resample.py) designs
 * the core's filter from the same table; a quality changed on one side only would
 * make the two paths of one pipeline differ.
 */
describe('the Python audio nodes share the core constants', () => {
  it("Resample's qualities and default are the core's", () => {
    const out = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json\nfrom remotemedia.nodes.audio.resample import QUALITIES, DEFAULT_QUALITY\n' +
          'print(json.dumps({"qualities": QUALITIES, "default": DEFAULT_QUALITY}))',
      ],
      { env: { ...process.env, PYTHONPATH: 'python-packages' }, encoding: 'utf8' },
    );
    const python = JSON.parse(out) as { qualities: Record<string, number[]>; default: string };
    expect(python.default).toBe(DEFAULT_RESAMPLE_QUALITY);
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

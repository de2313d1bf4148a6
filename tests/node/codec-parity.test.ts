import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { canonical, type Decoded, decodeForParity, frameCorpus, seedData } from './frame-corpus.ts';

/**
 * The frame codec's two implementations must give the same answer for every frame:
 * web/core/frame-codec.ts and python-packages/remotemedia/frame_codec.py (run by
 * Debian's CPython, one process for the whole corpus). A corpus of mutated frames
 * (tests/node/frame-corpus.ts, fixed seed) is decoded by both; for each frame both
 * refuse it, or both accept it with the same sequence and value.
 */
const SEED = 0x5eed_c0de;
const COUNT = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'codec-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function decodeWithPython(frames: Uint8Array[]): Promise<unknown[]> {
  const file = join(dir, 'corpus.bin');
  const parts: Uint8Array[] = [];
  for (const frame of frames) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(frame.length);
    parts.push(length, frame);
  }
  writeFileSync(file, Buffer.concat(parts));
  const { stdout } = await promisify(execFile)(
    '/usr/bin/python3',
    ['python-packages/tests/decode_corpus.py', file],
    { maxBuffer: 1 << 30 },
  );
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

describe('frame codec parity, TypeScript and Python', () => {
  it(`agree on every frame of ${COUNT} mutated frames (seed ${SEED.toString(16)})`, async () => {
    const corpus = frameCorpus(SEED, COUNT);
    const python = await decodeWithPython(corpus);
    expect(python).toHaveLength(COUNT);

    let accepted = 0;
    const escaped: string[] = [];
    const disagreements: string[] = [];
    corpus.forEach((frame, i) => {
      const ts: Decoded = decodeForParity(frame);
      const py = python[i] as Decoded | { escaped: string };
      if (py && 'escaped' in py) {
        escaped.push(`#${i}: ${py.escaped}`);
        return;
      }
      if (ts) accepted++;
      if ((ts === null) !== (py === null) || (ts && canonical(ts) !== canonical(py))) {
        disagreements.push(
          `#${i} ${Buffer.from(frame).toString('hex')}\n  ts: ${ts ? canonical(ts) : 'refused'}\n  py: ${py ? canonical(py) : 'refused'}`,
        );
      }
    });
    console.log(
      `codec parity: ${COUNT} frames, TypeScript accepted ${accepted}, ${disagreements.length} disagreements, ${escaped.length} untyped Python errors`,
    );
    // Bad input is a FrameCodecError in Python too, never another exception.
    expect(escaped.slice(0, 5)).toEqual([]);
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(disagreements).toHaveLength(0);
    // The corpus reaches past the CRC: many mutated frames decode, many are refused.
    const valid = seedData().length;
    expect(accepted - valid).toBeGreaterThan(COUNT / 20);
    expect(COUNT - accepted).toBeGreaterThan(COUNT / 2);
  }, 120_000);

  it('accepts every unmutated seed frame on both sides, with the same value', async () => {
    const frames = frameCorpus(SEED, seedData().length);
    const python = await decodeWithPython(frames);
    frames.forEach((frame, i) => {
      const ts = decodeForParity(frame);
      expect(ts).not.toBeNull();
      expect(canonical(python[i])).toBe(canonical(ts));
    });
  });
});

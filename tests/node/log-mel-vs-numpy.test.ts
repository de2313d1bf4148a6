import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipelineRunner, RuntimeData, type TensorData } from '../../web/core/internal.ts';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';

/** Whisper's log-mel computed by numpy (Debian's python3-numpy) from the same samples. */
function numpyLogMel(samples: Float32Array, nMels: number): Float32Array {
  const dir = mkdtempSync(join(tmpdir(), 'rm-mel-'));
  writeFileSync(join(dir, 'in.f32'), samples);
  execFileSync('/usr/bin/python3', [
    'tests/audio/whisper_log_mel.py',
    join(dir, 'in.f32'),
    join(dir, 'out.f32'),
    String(nMels),
  ]);
  const bytes = readFileSync(join(dir, 'out.f32'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

const TOLERANCE = 2e-3; // in Whisper's scaled units: 1 unit = 40 dB, so 0.08 dB

const manifest = (mode: string, n_mels = 80) => ({
  version: 'v1' as const,
  metadata: { name: 'log-mel' },
  nodes: [{ id: 'mel', node_type: 'LogMel', params: { mode, n_mels } }],
  connections: [],
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('LogMel against a numpy reference', () => {
  const speech = makeSpeechFixture(['The quick brown fox jumps over the lazy dog.'], [0.3, 0.4]).wav
    .samples;

  it.each([80, 128])(
    'utterance mode matches Whisper (n_mels %i) on espeak-ng speech',
    async (nMels) => {
      const chunks = [];
      for (let at = 0; at < speech.length; at += 320)
        chunks.push(RuntimeData.audio(speech.slice(at, at + 320), 16000));
      const [out] = (await new PipelineRunner().executeBatch(
        manifest('utterance', nMels),
        chunks,
      )) as TensorData[];
      const reference = numpyLogMel(speech, nMels);
      expect(out!.shape).toEqual([nMels, Math.floor(speech.length / 160)]);
      const diff = maxAbsDiff(out!.data as Float32Array, reference);
      console.log(
        `LogMel n_mels ${nMels}: ${out!.shape[1]} frames, max |ours - numpy| = ${diff.toExponential(2)}`,
      );
      expect(diff).toBeLessThan(TOLERANCE);
    },
  );

  it('gives the same frames for any chunking', async () => {
    const runner = new PipelineRunner();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 6 }),
        async (sizes) => {
          const total = sizes.reduce((a, b) => a + b, 0);
          // Whisper (torch's reflect padding) needs more than 200 samples.
          fc.pre(total > 200);
          const signal = speech.subarray(8000, 8000 + total);
          let at = 0;
          const chunks = sizes.map((size) => {
            const c = RuntimeData.audio(signal.slice(at, at + size), 16000);
            at += size;
            return c;
          });
          const [out] = (await runner.executeBatch(manifest('utterance'), chunks)) as (
            TensorData | undefined
          )[];
          const reference = numpyLogMel(signal, 80);
          expect(out?.data.length ?? 0).toBe(reference.length);
          if (out) expect(maxAbsDiff(out.data as Float32Array, reference)).toBeLessThan(TOLERANCE);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('gives floor(L / 160) frames for streams too short to reflect, without failing', async () => {
    const runner = new PipelineRunner();
    for (const length of [0, 1, 159, 160, 200]) {
      const outputs = (await runner.executeBatch(manifest('utterance'), [
        RuntimeData.audio(speech.slice(9000, 9000 + length), 16000),
      ])) as TensorData[];
      expect(outputs.reduce((n, t) => n + t.shape[1]!, 0)).toBe(Math.floor(length / 160));
    }
  });

  it('stream mode emits the same frames as it goes when the loudest frame comes first', async () => {
    const loudFirst = new Float32Array(speech.length + 1600);
    let seed = 7;
    for (let i = 0; i < 1600; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      loudFirst[i] = (seed / 2147483648) * 1.8 - 0.9; // loud white noise: the maximum in every band
    }
    loudFirst.set(
      speech.map((v) => v * 0.25),
      1600,
    );
    // The first chunk holds the whole burst, so the running maximum is the final one from the start.
    const chunks = [RuntimeData.audio(loudFirst.slice(0, 3200), 16000)];
    for (let at = 3200; at < loudFirst.length; at += 1000) {
      chunks.push(RuntimeData.audio(loudFirst.slice(at, at + 1000), 16000));
    }
    const runner = new PipelineRunner();
    const streamed = (await runner.executeBatch(manifest('stream'), chunks)) as TensorData[];
    expect(streamed.length).toBeGreaterThan(10);
    const frames = streamed.reduce((n, t) => n + t.shape[1]!, 0);
    const reference = numpyLogMel(loudFirst, 80);
    expect(frames).toBe(reference.length / 80);
    let offset = 0;
    let worst = 0;
    for (const t of streamed) {
      const n = t.shape[1]!;
      for (let m = 0; m < 80; m++) {
        for (let i = 0; i < n; i++)
          worst = Math.max(
            worst,
            Math.abs((t.data[m * n + i]! as number) - reference[m * frames + offset + i]!),
          );
      }
      offset += n;
    }
    expect(worst).toBeLessThan(TOLERANCE);
  });

  it('rejects audio that is not 16 kHz mono, saying what to put before it', async () => {
    const runner = new PipelineRunner();
    await expect(
      runner.executeUnary(manifest('stream'), RuntimeData.audio(new Float32Array(10), 48000)),
    ).rejects.toThrow(/expects 16000 Hz audio/);
    await expect(
      runner.executeUnary(manifest('stream'), RuntimeData.audio(new Float32Array(10), 16000, 2)),
    ).rejects.toThrow(/expects mono audio, received 2 channels \(put FormatConvert/);
  });
});

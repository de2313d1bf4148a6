import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipelineRunner } from '../../pipeline-runner.ts';
import {
  type AudioData,
  type BinaryData,
  RuntimeData,
  type TensorData,
} from '../../runtime-data.ts';

const runner = new PipelineRunner();
const single = (node_type: string, params: Record<string, unknown>) => ({
  version: 'v1' as const,
  metadata: { name: node_type },
  nodes: [{ id: 'n', node_type, params }],
  connections: [],
});

/** Splits interleaved samples into chunks of the given frame counts. */
function chunk(
  samples: Float32Array,
  channels: number,
  sizes: number[],
  rate = 16000,
): AudioData[] {
  const out: AudioData[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(
      RuntimeData.audio(samples.slice(at * channels, (at + size) * channels), rate, channels),
    );
    at += size;
  }
  return out;
}

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i % 1000) - 500) / 1000);

describe('Rebuffer', () => {
  it('emits exact frames, sample for sample, for any chunking, hop and tail', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom('pad', 'drop'),
        async (frame_size, hop, channels, sizes, tail) => {
          const total = sizes.reduce((a, b) => a + b, 0);
          const signal = ramp(total * channels);
          const outputs = (await runner.executeBatch(
            single('Rebuffer', { frame_size, hop, tail }),
            chunk(signal, channels, sizes),
          )) as AudioData[];
          const expected: number[][] = [];
          for (let start = 0; start < total; start += hop) {
            if (start + frame_size > total && tail === 'drop') break;
            const frame = new Float32Array(frame_size * channels);
            frame.set(
              signal.subarray(start * channels, Math.min(total, start + frame_size) * channels),
            );
            expected.push([...frame]);
          }
          expect(outputs.map((o) => [...o.samples])).toEqual(expected);
          expect(outputs.every((o) => o.samples.length === frame_size * channels)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stamps each frame with its start time', async () => {
    const input = { ...RuntimeData.audio(ramp(1000), 16000), timestampUs: 1_000_000 };
    const outputs = (await runner.executeBatch(single('Rebuffer', { frame_size: 400, hop: 160 }), [
      input,
    ])) as AudioData[];
    expect(outputs.map((o) => o.timestampUs)).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((k) => 1_000_000 + k * 10_000),
    );
  });
});

describe('Accumulator', () => {
  it('emits exactly duration_ms of audio each time, and the rest at the end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 100 }),
        async (sizes, durationMs) => {
          const total = sizes.reduce((a, b) => a + b, 0);
          const signal = ramp(total);
          const outputs = (await runner.executeBatch(
            single('Accumulator', { duration_ms: durationMs }),
            chunk(signal, 1, sizes),
          )) as AudioData[];
          const size = (durationMs / 1000) * 16000;
          const lengths = outputs.map((o) => o.samples.length);
          expect(lengths).toEqual([
            ...Array(Math.floor(total / size)).fill(size),
            ...(total % size ? [total % size] : []),
          ]);
          expect(outputs.flatMap((o) => [...o.samples])).toEqual([...signal]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('emits what it gathered when until_event arrives, then the event', async () => {
    const outputs = await runner.executeBatch(
      single('Accumulator', { until_event: 'speech_end' }),
      [
        RuntimeData.audio(new Float32Array(100), 16000),
        RuntimeData.event('speech_start', 0),
        RuntimeData.audio(new Float32Array(60), 16000),
        RuntimeData.event('speech_end', 10_000),
        RuntimeData.audio(new Float32Array(7), 16000),
      ],
    );
    expect(
      outputs.map((o) =>
        o.kind === 'audio' ? o.samples.length : o.kind === 'event' ? o.name : o.kind,
      ),
    ).toEqual(['speech_start', 160, 'speech_end', 7]);
  });
});

describe('Gain', () => {
  it('scales by the gain in dB, and clips unless told not to', async () => {
    const input = RuntimeData.audio(new Float32Array([0.5, -0.25, 0.9, -0.9]), 16000);
    const half = (await runner.executeUnary(
      single('Gain', { gain_db: -6.020599913 }),
      input,
    )) as AudioData;
    expect([...half.samples].map((v) => Number(v.toFixed(6)))).toEqual([0.25, -0.125, 0.45, -0.45]);
    const loud = (await runner.executeUnary(
      single('Gain', { gain_db: 6.020599913 }),
      input,
    )) as AudioData;
    expect([...loud.samples].map((v) => Number(v.toFixed(6)))).toEqual([1, -0.5, 1, -1]);
    const unclipped = (await runner.executeUnary(
      single('Gain', { gain_db: 6.020599913, clip: false }),
      input,
    )) as AudioData;
    expect(unclipped.samples[2]).toBeCloseTo(1.8, 5);
    expect(input.samples[0]).toBe(0.5);
  });

  it('scales a much larger frame after a small one (its WASM memory grows between them)', async () => {
    const session = await runner.createStreamSession(single('Gain', { gain_db: 6.020599913 }));
    const sizes = [4, 200_000, 3];
    for (const n of sizes) {
      await session.sendInput(
        RuntimeData.audio(
          Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 8),
          16000,
        ),
      );
    }
    await session.close();
    for (const n of sizes) {
      const out = (await session.recvOutput())!.data as AudioData;
      expect(out.samples.length).toBe(n);
      const want = Float32Array.from({ length: n }, (_, i) =>
        Math.max(-1, Math.min(1, Math.fround(((i % 7) - 3) / 8) * 2)),
      );
      for (let i = 0; i < n; i++) expect(out.samples[i]).toBeCloseTo(want[i]!, 5);
    }
  });

  // The check runs inside the WASM kernel (four lanes at a time, then a scalar tail):
  // a bad sample in a vector lane and in the tail, with and without clip (clip would
  // turn an infinity into 1), gets the same typed error the JS check gives.
  it.each([
    ['NaN in a vector lane', 5, Number.NaN, true],
    ['+Infinity in the scalar tail', 1001, Number.POSITIVE_INFINITY, true],
    ['-Infinity at index 0, unclipped', 0, Number.NEGATIVE_INFINITY, false],
    ['NaN as the last sample, unclipped', 1002, Number.NaN, false],
  ])('rejects %s with the index and value', async (_, index, value, clip) => {
    const samples = new Float32Array(1003).fill(0.5);
    samples[index] = value;
    samples[index + 10] = Number.NaN; // a later one is not the one named
    const error = await runner
      .executeUnary(single('Gain', { gain_db: 6, clip }), RuntimeData.audio(samples, 16000))
      .catch((e) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'n' });
    expect(error.cause).toMatchObject({
      kind: 'invalid_data',
      path: `samples[${index}]`,
      message: `Gain received a non-finite sample (${value}) at index ${index}; audio samples must be finite`,
    });
  });
});

describe('FormatConvert', () => {
  const every16 = Float32Array.from({ length: 65536 }, (_, i) => (i - 32768) / 32768);

  it('float32 -> int16 -> float32 is exact for every int16 value', async () => {
    const pcm = (await runner.executeUnary(
      single('FormatConvert', { to: 'int16' }),
      RuntimeData.audio(every16, 16000),
    )) as BinaryData;
    expect(pcm.mimeType).toBe('audio/pcm;format=s16le;rate=16000;channels=1');
    expect(new Int16Array(pcm.bytes.buffer)[0]).toBe(-32768);
    const back = (await runner.executeUnary(
      single('FormatConvert', { to: 'float32' }),
      pcm,
    )) as AudioData;
    expect(back.samples).toEqual(every16);
    expect(back.sampleRate).toBe(16000);
  });

  it('downmixes to mono, upmixes mono, and converts to and from planar', async () => {
    const stereo = RuntimeData.audio(new Float32Array([1, 0, 0.5, 0.5, -1, 1]), 48000, 2);
    const mono = (await runner.executeUnary(
      single('FormatConvert', { channels: 1 }),
      stereo,
    )) as AudioData;
    expect([...mono.samples]).toEqual([0.5, 0.5, 0]);
    const up = (await runner.executeUnary(
      single('FormatConvert', { channels: 2 }),
      mono,
    )) as AudioData;
    expect([...up.samples]).toEqual([0.5, 0.5, 0.5, 0.5, 0, 0]);
    const planar = (await runner.executeUnary(
      single('FormatConvert', { to: 'planar' }),
      stereo,
    )) as TensorData;
    expect(planar.shape).toEqual([2, 3]);
    expect([...planar.data]).toEqual([1, 0.5, -1, 0, 0.5, 1]);
    const back = (await runner.executeUnary(
      single('FormatConvert', { sample_rate: 48000 }),
      planar,
    )) as AudioData;
    expect(back).toEqual(stereo);
  });

  it.each([
    [
      'an odd byte count',
      {},
      RuntimeData.binary(new Uint8Array(3), 'audio/pcm;format=s16le;rate=16000'),
      /3 bytes of int16 PCM: an odd byte count/,
    ],
    [
      'samples that do not divide into channels',
      { sample_rate: 16000, input_channels: 2 },
      RuntimeData.binary(new Uint8Array(6)),
      /3 int16 samples, which do not divide into 2 channels/,
    ],
    [
      'int16 input without a rate',
      {},
      RuntimeData.binary(new Uint8Array(4)),
      /needs the rate of int16 input/,
    ],
    [
      'an unsupported channel conversion',
      { channels: 3 },
      RuntimeData.audio(new Float32Array(4), 16000, 2),
      /cannot convert 2 channels to 3/,
    ],
    [
      'infinite samples',
      {},
      RuntimeData.audio(new Float32Array([Number.POSITIVE_INFINITY]), 16000),
      /non-finite sample \(Infinity\)/,
    ],
  ])('rejects %s, naming the node', async (_, params, input, message) => {
    const error = await runner.executeUnary(single('FormatConvert', params), input).catch((e) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'n' });
    expect(error.message).toMatch(message);
  });
});

describe('EnergyVAD', () => {
  it('finds a loud burst between silences, with frame-accurate timestamps', async () => {
    const rate = 16000;
    const signal = new Float32Array(rate * 2);
    for (let i = rate / 2; i < rate * 1.5; i++) signal[i] = 0.1 * Math.sin(i * 0.3);
    const outputs = await runner.executeBatch(
      single('EnergyVAD', { threshold_db: -40, hangover_ms: 200, emit_audio: false }),
      chunk(signal, 1, Array(20).fill(1600)),
    );
    expect(outputs.map((o) => (o.kind === 'event' ? [o.name, o.timestampUs] : o.kind))).toEqual([
      ['speech_start', 500_000],
      ['speech_end', 1_500_000],
    ]);
  });

  it('passes audio through by default and ends open speech at the end of the stream', async () => {
    const loud = RuntimeData.audio(new Float32Array(3200).fill(0.5), 16000);
    const outputs = await runner.executeBatch(single('EnergyVAD', {}), [loud]);
    expect(outputs.map((o) => (o.kind === 'event' ? o.name : o.kind))).toEqual([
      'audio',
      'speech_start',
      'speech_end',
    ]);
  });
});

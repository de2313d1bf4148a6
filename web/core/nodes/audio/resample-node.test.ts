import { describe, expect, it } from 'vitest';
import { PipelineRunner } from '../../pipeline-runner.ts';
import { type AudioData, RuntimeData } from '../../runtime-data.ts';
import { Resample } from './resample.ts';
import { isPlanned } from './resample-filter.ts';

const runner = new PipelineRunner();
const manifest = (params: Record<string, unknown>) => ({
  version: 'v1' as const,
  metadata: { name: 'resample' },
  nodes: [{ id: 'rs', node_type: 'Resample', params }],
  connections: [],
});

describe('Resample node', () => {
  it('streams 48 kHz stereo chunks to 16 kHz with exact length and timestamps', async () => {
    const chunk = () => RuntimeData.audio(new Float32Array(960 * 2).fill(0.25), 48000, 2);
    const inputs = Array.from({ length: 10 }, (_, i) => ({
      ...chunk(),
      timestampUs: 5_000_000 + i * 20_000,
    }));
    const outputs = (await runner.executeBatch(
      manifest({ target_rate: 16000 }),
      inputs,
    )) as AudioData[];
    const frames = outputs.reduce((n, o) => n + o.samples.length / 2, 0);
    expect(frames).toBe(3200);
    expect(outputs.every((o) => o.sampleRate === 16000 && o.channels === 2)).toBe(true);
    expect(outputs[0]!.timestampUs).toBe(5_000_000);
    const middle = outputs[1]!.samples;
    expect(middle[middle.length - 1]).toBeCloseTo(0.25, 5);
  });

  it('with source_rate, designs its filters at initialize, not in the first block', async () => {
    // The Remez design takes tens of milliseconds: paid before the stream starts.
    const node = Resample.create(
      { target_rate: 16000, source_rate: 44100, quality: 'best' },
      undefined as never,
    );
    expect(isPlanned(44100, 16000, 'best')).toBe(false);
    await node.initialize?.();
    expect(isPlanned(44100, 16000, 'best')).toBe(true);
    // Without source_rate the rate is known only from the first block: designed there.
    const open = Resample.create({ target_rate: 16000, quality: 'medium' }, undefined as never);
    await open.initialize?.();
    expect(isPlanned(44100, 16000, 'medium')).toBe(false);
    await open.process(RuntimeData.audio(new Float32Array(441), 44100), undefined as never);
    expect(isPlanned(44100, 16000, 'medium')).toBe(true);
  });

  it('passes audio already at the target rate through untouched', async () => {
    const input = RuntimeData.audio(new Float32Array([0.1, 0.2]), 16000);
    expect(await runner.executeUnary(manifest({ target_rate: 16000 }), input)).toBe(input);
  });

  it.each([
    [
      'a sample rate other than source_rate',
      { target_rate: 16000, source_rate: 48000 },
      [RuntimeData.audio(new Float32Array(4), 44100)],
      /expects 48000 Hz audio \(its source_rate\), received 44100 Hz/,
    ],
    [
      'a rate change mid-stream',
      { target_rate: 16000 },
      [
        RuntimeData.audio(new Float32Array(4), 48000),
        RuntimeData.audio(new Float32Array(4), 44100),
      ],
      /received 44100 Hz x 1 channels after 48000 Hz x 1; a stream keeps one format/,
    ],
    [
      'NaN samples',
      { target_rate: 16000 },
      [RuntimeData.audio(new Float32Array([0, Number.NaN]), 48000)],
      /non-finite sample \(NaN\) at index 1/,
    ],
    [
      'text instead of audio',
      { target_rate: 16000 },
      [RuntimeData.text('hello')],
      /expects audio input, received text/,
    ],
  ])('rejects %s with a typed error naming the node', async (_, params, inputs, message) => {
    const error = await runner.executeBatch(manifest(params), inputs).catch((e) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'rs' });
    expect(error.message).toMatch(message);
  });

  it('rejects bad params at validation, with their path', () => {
    expect(() => runner.prepare(manifest({ target_rate: 16000, quality: 'ultra' }))).toThrow(
      /nodes\[0\]\.params\.quality/,
    );
    expect(() => runner.prepare(manifest({}))).toThrow(/nodes\[0\]\.params\.target_rate/);
  });
});

import { describe, expect, it } from 'vitest';
import { type AudioData, PipelineRunner, RuntimeData } from '../../web/core/internal.ts';
import { nodeSileroAssets } from '../../web/nodes/silero-assets-node.ts';
import { createSileroVad } from '../../web/nodes/silero-vad.ts';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';

/**
 * SileroVAD (onnxruntime-web's Node build, the model files vad-web ships) on real
 * speech from espeak-ng with known silences, given at 48 kHz so the resampling
 * path runs too.
 */
describe('SileroVAD on espeak-ng speech', () => {
  const runner = new PipelineRunner({ nodes: [createSileroVad(nodeSileroAssets)] });

  it.each(['v5', 'legacy'])(
    'model %s finds each utterance within 150 ms and nothing in the silences',
    async (model) => {
      const fixture = makeSpeechFixture(undefined, undefined, 48000);
      const { samples } = fixture.wav;
      const chunks = [];
      for (let at = 0; at < samples.length; at += 960)
        chunks.push(RuntimeData.audio(samples.slice(at, at + 960), 48000));
      const manifest = {
        version: 'v1' as const,
        metadata: { name: 'silero' },
        nodes: [{ id: 'vad', node_type: 'SileroVAD', params: { model } }],
        connections: [],
      };
      const outputs = await runner.executeBatch(manifest, chunks);
      const events = outputs.filter((o) => o.kind === 'event');
      const segments = outputs.filter((o): o is AudioData => o.kind === 'audio');
      const spans: { start: number; end: number }[] = [];
      for (let i = 0; i + 1 < events.length; i += 2) {
        spans.push({
          start: events[i]!.timestampUs! / 1e6,
          end: events[i + 1]!.timestampUs! / 1e6,
        });
      }
      console.log(model, 'truth', fixture.truth, 'SileroVAD', spans);
      expect(events.map((e) => (e.kind === 'event' ? e.name : e.kind))).toEqual([
        'speech_start',
        'speech_end',
        'speech_start',
        'speech_end',
      ]);
      spans.forEach((span, i) => {
        expect(Math.abs(span.start - fixture.truth[i]!.start)).toBeLessThan(0.15);
        expect(Math.abs(span.end - fixture.truth[i]!.end)).toBeLessThan(0.15);
      });
      expect(segments).toHaveLength(2);
      segments.forEach((segment, i) => {
        expect(segment.sampleRate).toBe(16000);
        const seconds = segment.samples.length / 16000;
        expect(seconds).toBeGreaterThan(fixture.truth[i]!.end - fixture.truth[i]!.start - 0.3);
        expect(segment.timestampUs! / 1e6).toBeLessThanOrEqual(spans[i]!.start);
      });
    },
  );

  it('rejects params that contradict each other, with their path', () => {
    expect(() =>
      runner.prepare({
        version: 'v1',
        metadata: { name: 'bad' },
        nodes: [
          {
            id: 'vad',
            node_type: 'SileroVAD',
            params: { positive_threshold: 0.3, negative_threshold: 0.6 },
          },
        ],
        connections: [],
      }),
    ).toThrow(
      /nodes\[0\]\.params\.negative_threshold: negative_threshold must not exceed positive_threshold/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { PipelineRunner, RuntimeData } from '../../web/core/internal.ts';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';

/** EnergyVAD on real speech (espeak-ng) with known silences around it. */
describe('EnergyVAD on espeak-ng speech', () => {
  it('finds each utterance within 150 ms of the truth and nothing in the silences', async () => {
    const fixture = makeSpeechFixture();
    const { samples, sampleRate } = fixture.wav;
    const manifest = {
      version: 'v1' as const,
      metadata: { name: 'energy-vad' },
      nodes: [
        {
          id: 'vad',
          node_type: 'EnergyVAD',
          params: { threshold_db: -45, hangover_ms: 500, emit_audio: false },
        },
      ],
      connections: [],
    };
    const chunks = [];
    for (let at = 0; at < samples.length; at += sampleRate / 50) {
      chunks.push(RuntimeData.audio(samples.slice(at, at + sampleRate / 50), sampleRate));
    }
    const events = await new PipelineRunner().executeBatch(manifest, chunks);
    const segments = [];
    for (let i = 0; i + 1 < events.length; i += 2) {
      segments.push({
        start: events[i]!.timestampUs! / 1e6,
        end: events[i + 1]!.timestampUs! / 1e6,
      });
    }
    console.log('truth', fixture.truth, 'EnergyVAD', segments);
    expect(events.map((e) => (e.kind === 'event' ? e.name : e.kind))).toEqual([
      'speech_start',
      'speech_end',
      'speech_start',
      'speech_end',
    ]);
    segments.forEach((segment, i) => {
      expect(Math.abs(segment.start - fixture.truth[i]!.start)).toBeLessThan(0.15);
      expect(Math.abs(segment.end - fixture.truth[i]!.end)).toBeLessThan(0.15);
    });
  });
});

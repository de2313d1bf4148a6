import { commands } from 'vitest/browser';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeData } from '../core/internal.ts';
import { createRuntime } from '../runtime/runtime.ts';

declare module 'vitest/browser' {
  interface BrowserCommands {
    speechFixture(rate?: number): Promise<{
      samples: string;
      sampleRate: number;
      truth: { start: number; end: number }[];
    }>;
  }
}

describe('SileroVAD in a Chromium worker, offline assets from our server', async () => {
  const transport = await createRuntime();
  afterAll(() => transport.dispose());

  it('finds each espeak-ng utterance within 150 ms of the truth', async () => {
    const fixture = await commands.speechFixture(16000);
    const bytes = Uint8Array.from(atob(fixture.samples), (c) => c.charCodeAt(0));
    const samples = new Float32Array(bytes.buffer);
    const chunks = [];
    for (let at = 0; at < samples.length; at += 320) {
      chunks.push(RuntimeData.audio(samples.slice(at, at + 320), fixture.sampleRate));
    }
    const manifest = {
      version: 'v1' as const,
      metadata: { name: 'silero' },
      nodes: [{ id: 'vad', node_type: 'SileroVAD', params: {} }],
      connections: [],
    };
    const outputs = await transport.run(manifest, chunks);
    const events = outputs.filter((o) => o.data.kind === 'event').map((o) => o.data);
    expect(events.map((e) => (e.kind === 'event' ? e.name : ''))).toEqual([
      'speech_start',
      'speech_end',
      'speech_start',
      'speech_end',
    ]);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(events[2 * i]!.timestampUs! / 1e6 - fixture.truth[i]!.start)).toBeLessThan(
        0.15,
      );
      expect(Math.abs(events[2 * i + 1]!.timestampUs! / 1e6 - fixture.truth[i]!.end)).toBeLessThan(
        0.15,
      );
    }
    expect(outputs.filter((o) => o.data.kind === 'audio')).toHaveLength(2);
  }, 30_000);
});

import { commands } from 'vitest/browser';
import { afterAll, describe, expect, it } from 'vitest';
import { type AudioData, type Manifest, RuntimeData } from '../../core/internal.ts';
import { createRuntime } from '../runtime.ts';
import { AudioPlayback } from './audio-playback.ts';
import { decodeAudio, openAudioFile } from './audio-source.ts';

declare module 'vitest/browser' {
  interface BrowserCommands {
    speechWav(rate?: number): Promise<{
      wav: string;
      sampleRate: number;
      truth: { start: number; end: number }[];
    }>;
  }
}

const RATE = 16000;

/** The worker counts and forwards audio; EnergyVAD beside it finds the speech. */
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'live input' },
  nodes: [
    { id: 'in', node_type: 'PassThrough', params: {} },
    { id: 'vad', node_type: 'EnergyVAD', params: {} },
  ],
  connections: [{ from: 'in', to: 'vad' }],
};

async function speech(): Promise<{ bytes: ArrayBuffer; truth: { start: number; end: number }[] }> {
  const fixture = await commands.speechWav(RATE);
  const bytes = Uint8Array.from(atob(fixture.wav), (c) => c.charCodeAt(0));
  return { bytes: bytes.buffer, truth: fixture.truth };
}

/** The first 1.6 s of the espeak-ng speech: the first utterance and some silence. */
async function firstSeconds(): Promise<AudioData> {
  const { bytes } = await speech();
  const audio = await decodeAudio(bytes, RATE);
  return RuntimeData.audio(audio.samples.slice(0, 1.6 * RATE), RATE, 1);
}

function firstSound(samples: Float32Array): number {
  return samples.findIndex((v) => Math.abs(v) > 1e-3);
}

describe('a file played at real time through the capture AudioWorklet and a ring', async () => {
  const runtime = await createRuntime();
  afterAll(() => runtime.dispose());

  it('delivers every sample the worklet captured, exactly, to the pipeline worker', async () => {
    const file = await firstSeconds();
    const source = await openAudioFile(file, { sampleRate: RATE });
    expect(source.ring).toBeInstanceOf(SharedArrayBuffer);
    const session = await runtime.stream(manifest, { input: source });
    const blocks: AudioData[] = [];
    const events: string[] = [];
    for await (const { data } of session) {
      if (data.kind === 'audio') blocks.push(data);
      else if (data.kind === 'event') events.push(data.name);
    }
    const received = new Float32Array(blocks.reduce((n, b) => n + b.samples.length, 0));
    let at = 0;
    for (const b of blocks) {
      received.set(b.samples, at);
      at += b.samples.length;
    }
    const { written, dropped } = source.stats();
    // Nothing lost between the audio thread and the worker, nothing invented.
    expect(dropped).toBe(0);
    expect(received.length).toBe(written);
    // The file is all there, sample-exact, after whatever silence came before it
    // started (the graph runs a few quanta before the file's first one).
    expect(written).toBeGreaterThanOrEqual(file.samples.length);
    expect(written - file.samples.length).toBeLessThan(0.25 * RATE);
    const offset = firstSound(received) - firstSound(file.samples);
    expect(received.subarray(offset, offset + file.samples.length)).toEqual(file.samples);
    // Blocks are 20 ms, stamped by their position in the stream.
    expect(blocks[1]!.timestampUs).toBe(20_000);
    expect(events).toContain('speech_start');
    expect(session.isActive()).toBe(false);
  });

  it('and the same over postMessage when there are no rings, relayed by the page', async () => {
    const messages = await createRuntime({ channels: 'messages' });
    const file = await firstSeconds();
    const source = await openAudioFile(file, { sampleRate: RATE });
    const session = await messages.stream(manifest, { input: source });
    let samples = 0;
    for await (const { data } of session) if (data.kind === 'audio') samples += data.samples.length;
    expect(samples).toBe(source.stats().written);
    expect(samples).toBeGreaterThanOrEqual(file.samples.length);
    messages.dispose();
  });

  it('closing a live session stops its source and ends the stream', async () => {
    const file = await firstSeconds();
    const source = await openAudioFile(file, { sampleRate: RATE });
    const session = await runtime.stream(manifest, { input: source });
    const first = await session.recvOutput();
    expect(first?.data.kind).toBe('audio');
    await expect(session.sendInput(RuntimeData.json(1))).rejects.toMatchObject({ kind: 'usage' });
    const reading = (async () => {
      while (await session.recvOutput());
    })();
    await session.close();
    await source.ended;
    // The reader saw the end (recvOutput gave undefined) rather than waiting on.
    await reading;
    expect(session.isActive()).toBe(false);
  });
});

describe('playback through the playback AudioWorklet', () => {
  it('plays what is written, in real time, and reports no loss', async () => {
    const playback = await AudioPlayback.open({ sampleRate: RATE });
    const tone = Float32Array.from({ length: RATE / 2 }, (_, i) => 0.1 * Math.sin(i / 5));
    expect(playback.write(RuntimeData.audio(tone, RATE, 1))).toBe(tone.length);
    const started = playback.context.currentTime;
    playback.end();
    await expect.poll(() => playback.queued, { timeout: 3000 }).toBe(0);
    // It took about the tone's duration of audio time to drain (render quanta of slack).
    expect(playback.context.currentTime - started).toBeGreaterThan(0.45);
    expect(playback.stats().dropped).toBe(0);
    await playback.close();
  });

  it('refuses audio at another rate with a typed error', async () => {
    const playback = await AudioPlayback.open({ sampleRate: RATE });
    expect(() => playback.write(RuntimeData.audio(new Float32Array(480), 48000, 1))).toThrow(
      /expects 1-channel audio at 16000 Hz, received 1 channel\(s\) at 48000 Hz/,
    );
    await playback.close();
  });
});

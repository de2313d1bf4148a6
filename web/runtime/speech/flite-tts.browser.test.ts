/**
 * TextToSpeech in the browser's pipeline worker (flite.wasm served from our own
 * assets folder): text -> audio chunks of plausible duration and level, read back
 * by the gateway's SpeechToText (PocketSphinx in CPython, tests/browser/gateway-setup.ts)
 * given the sentence as its grammar.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { defineNode, type Manifest, RuntimeData } from '../../core/internal.ts';
import { createRuntime } from '../runtime.ts';
import { textPieces } from './flite-tts.ts';

const SENTENCE = 'what time is it';

function speak(params: Record<string, unknown> = {}): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'browser-tts' },
    nodes: [{ id: 'tts', node_type: 'TextToSpeech', params }],
    connections: [],
  };
}

function join(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

describe('TextToSpeech with flite in the pipeline worker', async () => {
  const runtime = await createRuntime({ gateway: { token: inject('gatewayToken') } });
  afterAll(() => runtime.dispose());

  it('text -> 16 kHz chunks of plausible duration and level, in order', async () => {
    const outputs = await runtime.run(speak({ sample_rate: 16000, chunk_ms: 100 }), [
      RuntimeData.text(SENTENCE),
    ]);
    const chunks = outputs.map((o) => o.data);
    expect(chunks.length).toBeGreaterThan(5);
    let at = 0;
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ kind: 'audio', sampleRate: 16000, channels: 1 });
      if (chunk.kind !== 'audio') continue;
      expect(chunk.samples.length).toBeLessThanOrEqual(1600);
      expect(chunk.timestampUs).toBeCloseTo((at / 16000) * 1e6, 0);
      at += chunk.samples.length;
    }
    const samples = join(chunks.flatMap((c) => (c.kind === 'audio' ? [c.samples] : [])));
    const seconds = samples.length / 16000;
    expect(seconds).toBeGreaterThan(0.6);
    expect(seconds).toBeLessThan(3);
    const rms = Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length);
    const peak = samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(rms).toBeGreaterThan(0.01); // speech, not silence
    expect(peak).toBeLessThanOrEqual(1);
  }, 60_000);

  it("the gateway's SpeechToText, given the sentence as grammar, reads flite's speech back", async () => {
    const gateway = { host: '127.0.0.1', port: inject('gatewayPort') };
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'browser-tts-gateway-stt' },
      nodes: [
        { id: 'tts', node_type: 'TextToSpeech', params: { sample_rate: 16000, voice: 'kal16' } },
        {
          id: 'stt',
          node_type: 'SpeechToText',
          params: {
            grammar: `#JSGF V1.0;\ngrammar g;\npublic <g> = ${SENTENCE} | stop | turn on the radio;\n`,
            endpointing: 'silence',
          },
          // The gateway's CPython engine reads it back (the browser's has its own tests).
          remote: gateway,
        },
      ],
      connections: [{ from: 'tts', to: 'stt' }],
    };
    const outputs = await runtime.run(manifest, [RuntimeData.text(SENTENCE)]);
    const texts = outputs.flatMap((o) => (o.data.kind === 'text' ? [o.data.text] : []));
    expect(texts).toEqual([SENTENCE]);
  }, 60_000);

  it('22.05 kHz when asked; a voice flite does not have is a clear error', async () => {
    const outputs = await runtime.run(speak({ sample_rate: 22050 }), [RuntimeData.text('stop')]);
    expect(outputs[0]!.data).toMatchObject({ kind: 'audio', sampleRate: 22050 });
    const error = await runtime
      .run(speak({ voice: 'de' }), [RuntimeData.text('hallo')])
      .catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain('is not a flite voice');
  }, 60_000);

  it('an interrupt reaches flite while it synthesizes a long text: the rest never comes', async () => {
    // 200 sentences, about 8 minutes of speech: one long call of the node.
    const text = Array.from(
      { length: 200 },
      (_, i) => `This is sentence number ${i + 1} of a very long reply that nobody will hear.`,
    ).join(' ');
    const manifest: Manifest = {
      ...speak({ sample_rate: 16000, chunk_ms: 100 }),
      bargeIn: { to: ['tts'] },
    };
    // Inboxes of 2: the replies queued below fill tts's inbox and hold the worker's
    // input pump, so the interrupt's copy in the channel is read only after the first
    // call: it must act out of band.
    const session = await runtime.stream(manifest, { queueCapacity: 2 });
    await session.sendInput(RuntimeData.text(text));
    const first = await session.recvOutput();
    expect(first?.data.kind).toBe('audio');
    for (let i = 0; i < 4; i++)
      await session.sendInput(RuntimeData.text(`Queued reply ${i}. ${text}`));
    await session.sendInput(RuntimeData.control('interrupt'));
    const closing = session.close();
    let after = 0;
    for await (const output of session) if (output.data.kind === 'audio') after++;
    await closing;
    // One text is about 4,800 chunks of 100 ms, the five 24,000. The chunks made
    // before the interrupt came but still on their way (the channel, the output
    // queue) are the cancelled turn's too: tts is in bargeIn.to, so the session
    // drops them until tts's interrupt control comes through. None reach the caller.
    // (Before the session dropped them, about 76 arrived here.)
    console.log(`flite interrupt: ${after} audio chunks after the first, of about 24,000`);
    expect(after).toBe(0);
  }, 120_000);

  it('long text is cut into bounded pieces at sentence ends', () => {
    const text = 'One two three. '.repeat(7000); // 105 kB
    let pieces = 0;
    for (const piece of textPieces(text, 400)) {
      expect(piece.length).toBeLessThanOrEqual(400);
      pieces++;
    }
    expect(pieces).toBe(7000);
    expect([...textPieces('x'.repeat(900), 400)].map((p) => p.length)).toEqual([400, 400, 100]);
  });
});

/**
 * What reaches the speaker after an interrupt: flite in the pipeline worker, the
 * speaker on the page (where AudioPlayback runs; this one counts what its process()
 * would write there, paced like playback so chunks queue up in the channel behind
 * it). Nothing of the cancelled turn may reach it once it was interrupted.
 */
describe('flite -> a page speaker, interrupted', async () => {
  const seen = { chunks: 0, afterInterrupt: 0, interrupts: 0 };
  let heard: () => void = () => {};
  const firstChunk = new Promise<void>((resolve) => (heard = resolve));
  const Speaker = defineNode({
    type: 'CountingSpeaker',
    params: z.strictObject({}),
    accepts: ['audio'],
    create: () => ({
      async process() {
        seen.chunks++;
        if (seen.interrupts > 0) seen.afterInterrupt++;
        heard();
        await new Promise((resolve) => setTimeout(resolve, 5)); // playback holds it back
      },
      interrupt() {
        seen.interrupts++;
      },
    }),
  });
  const runtime = await createRuntime({
    nodes: [Speaker],
    gateway: { token: inject('gatewayToken') },
  });
  afterAll(() => runtime.dispose());

  it('no chunk of the cancelled turn reaches the speaker after its interrupt', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `Sentence ${i + 1} of a long reply.`).join(
      ' ',
    );
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'flite-speaker' },
      nodes: [
        { id: 'tts', node_type: 'TextToSpeech', params: { sample_rate: 16000, chunk_ms: 100 } },
        { id: 'speaker', node_type: 'CountingSpeaker', params: {}, executor: 'main' },
      ],
      connections: [{ from: 'tts', to: 'speaker' }],
      bargeIn: { to: ['tts', 'speaker'] },
    };
    const session = await runtime.stream(manifest, { queueCapacity: 2 });
    await session.sendInput(RuntimeData.text(text));
    await firstChunk;
    for (let i = 0; i < 4; i++) await session.sendInput(RuntimeData.text(`Queued ${i}. ${text}`));
    await session.sendInput(RuntimeData.control('interrupt'));
    await session.close();
    const metrics = await session.metrics();
    const dropped = metrics.find((m) => m.nodeId === 'speaker')!.droppedOnInterrupt;
    console.log(
      `flite -> speaker: ${seen.chunks} chunks played before the interrupt, ${dropped} dropped at the speaker`,
    );
    expect(seen.interrupts).toBe(1);
    expect(seen.afterInterrupt).toBe(0);
    expect(dropped).toBeGreaterThan(0); // chunks were on their way: the speaker dropped them
  }, 120_000);
});

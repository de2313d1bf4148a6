import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';
import { mintGatewayToken } from '../../remote-gateway/gateway-tokens.ts';
import { type Manifest, RuntimeData } from '../../web/core/internal.ts';
import { decodeWav } from '../../web/core/wav-codec.ts';
import { RemoteProxyClient } from '../../web/node/remote-proxy-client.ts';

/**
 * The speech nodes: their CPython suite on real engines (Debian's PocketSphinx and
 * espeak-ng, on speech espeak-ng makes here), then SpeechToText and TextToSpeech
 * through a real gateway on loopback, from a Node client holding a signed token
 * that grants the node types and no client code.
 */
const run = promisify(execFile);
const SECRET = 'speech-test-secret-0123456789abcdef';

/** espeak-ng's WAV, written to a file (on stdout its header has no real length). */
async function espeakWav(text: string, voice = 'en-us'): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'speech-'));
  try {
    await run('espeak-ng', ['-v', voice, '-w', join(dir, 'speech.wav'), text]);
    return new Uint8Array(await readFile(join(dir, 'speech.wav')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('speech nodes under CPython (python-packages/tests/test_speech.py)', () => {
  it('recognise commands (>= 95% exact), synthesize, and refuse bad input clearly', async () => {
    const { stdout, stderr } = await run(
      '/usr/bin/python3',
      ['-m', 'unittest', 'tests.test_speech', '-v'],
      {
        cwd: 'python-packages',
        env: { ...process.env, REMOTEMEDIA_SPEECH_TESTS: '1' },
      },
    ).catch((error: { stdout: string; stderr: string }) => error);
    const report = `${stdout}\n${stderr}`;
    expect(report).toMatch(/Ran 13 tests/);
    expect(report).toMatch(/\nOK\n/);
    const accuracy = /commands: (\d+)\/(\d+) exact/.exec(report);
    expect(accuracy, report).not.toBeNull();
    expect(Number(accuracy![2])).toBeGreaterThanOrEqual(80);
    expect(Number(accuracy![1]) / Number(accuracy![2])).toBeGreaterThanOrEqual(0.95);
  }, 180_000);
});

describe('speech nodes on a gateway over a real WebSocket on loopback', () => {
  let gateway: Gateway;
  let client: RemoteProxyClient;
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, tokenSecret: SECRET });
    const token = await mintGatewayToken(SECRET, {
      nodeTypes: ['Resample', 'SpeechToText', 'TextToSpeech'],
    });
    client = new RemoteProxyClient({ host: '127.0.0.1', port: gateway.port }, { token });
  });
  afterAll(() => gateway?.close());

  const recognise = (params: Record<string, unknown>): Manifest => ({
    version: 'v1',
    metadata: { name: 'speech-to-text' },
    nodes: [
      { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
      { id: 'stt', node_type: 'SpeechToText', params },
    ],
    connections: [{ from: 'resample', to: 'stt' }],
  });

  it("a WAV's audio -> Resample -> SpeechToText gives its command, timed", async () => {
    const wav = decodeWav(await espeakWav('turn off the radio'));
    expect(wav.sampleRate).toBe(22050);
    const outputs = await client.run(
      recognise({ keywords: ['turn on the radio', 'turn off the radio', 'stop'] }),
      [RuntimeData.audio(wav.samples, wav.sampleRate, wav.channels, 0)],
    );
    const texts = outputs.filter((o) => o.data.kind === 'text').map((o) => o.data);
    expect(texts).toMatchObject([{ kind: 'text', text: 'turn off the radio' }]);
    // Resample's flushed tail is an utterance too: heard as nothing, so an empty transcript.
    const events = outputs.map((o) => o.data).filter((d) => d.kind === 'event');
    expect(events.map((e) => (e.payload as { text: string }).text)).toEqual([
      'turn off the radio',
      '',
    ]);
    const transcript = events[0]!;
    expect(transcript).toMatchObject({ kind: 'event', name: 'transcript' });
    const payload = (transcript as { payload?: unknown }).payload as {
      start_us: number;
      end_us: number;
    };
    const seconds = wav.samples.length / wav.sampleRate;
    expect(payload.start_us).toBeGreaterThanOrEqual(0);
    expect(payload.end_us).toBeGreaterThan(payload.start_us);
    expect(payload.end_us).toBeLessThanOrEqual(seconds * 1e6);
  }, 60_000);

  it('text -> TextToSpeech gives audio chunks that SpeechToText reads back', async () => {
    const tts: Manifest = {
      version: 'v1',
      metadata: { name: 'text-to-speech' },
      nodes: [
        {
          id: 'tts',
          node_type: 'TextToSpeech',
          params: { voice: 'en-us+f3', sample_rate: 16000, chunk_ms: 100 },
        },
      ],
      connections: [],
    };
    const outputs = await client.run(tts, [RuntimeData.text('what time is it')]);
    const chunks = outputs.map((o) => o.data);
    expect(chunks.length).toBeGreaterThan(5);
    const samples = new Float32Array(
      chunks.reduce((n, c) => n + (c.kind === 'audio' ? c.samples.length : 0), 0),
    );
    let at = 0;
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ kind: 'audio', sampleRate: 16000, channels: 1 });
      if (chunk.kind !== 'audio') continue;
      expect(chunk.samples.length).toBeLessThanOrEqual(1600);
      expect(chunk.timestampUs).toBeCloseTo((at / 16000) * 1e6, 0);
      samples.set(chunk.samples, at);
      at += chunk.samples.length;
    }
    expect(at / 16000).toBeGreaterThan(0.8);
    expect(at / 16000).toBeLessThan(3);
    const heard = await client.run(
      {
        ...recognise({ keywords: ['what time is it', 'stop'] }),
        nodes: [
          {
            id: 'stt',
            node_type: 'SpeechToText',
            params: { keywords: ['what time is it', 'stop'] },
          },
        ],
        connections: [],
      },
      [RuntimeData.audio(samples, 16000)],
    );
    expect(heard.map((o) => o.data).filter((d) => d.kind === 'text')).toMatchObject([
      { text: 'what time is it' },
    ]);
  }, 60_000);

  it('dictation (the general language model) on silence is an empty transcript, not an error', async () => {
    const outputs = await client.run(
      {
        ...recognise({}),
        nodes: [{ id: 'stt', node_type: 'SpeechToText', params: {} }],
        connections: [],
      },
      [RuntimeData.audio(new Float32Array(16000), 16000, 1, 0)],
    );
    expect(outputs.map((o) => o.data)).toMatchObject([
      { kind: 'event', name: 'transcript', payload: { text: '', words: [], mode: 'dictation' } },
    ]);
  }, 60_000);

  it('a grammar that does not parse fails the session naming its line', async () => {
    const grammar = '#JSGF V1.0;\ngrammar g;\npublic <g> = stop |;\n';
    const error = await client
      .run(recognise({ grammar }), [RuntimeData.audio(new Float32Array(1600), 16000)])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'stt' });
    expect(String((error as Error).message)).toMatch(/grammar line 3: /);
  }, 60_000);

  it('params are checked with their path before any process starts', async () => {
    const error = await client.run(recognise({ endpointing: 'vad' }), []).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/nodes\[1\]\.params\.endpointing/);
  });

  it('with a client-code token the same nodes run in the sandboxed pool (bubblewrap)', async () => {
    const token = await mintGatewayToken(SECRET, {
      nodeTypes: ['SpeechToText', 'TextToSpeech'],
      clientCode: true,
    });
    const sandboxed = new RemoteProxyClient({ host: '127.0.0.1', port: gateway.port }, { token });
    const chain: Manifest = {
      version: 'v1',
      metadata: { name: 'speech-loop' },
      nodes: [
        { id: 'tts', node_type: 'TextToSpeech', params: { sample_rate: 16000 } },
        { id: 'stt', node_type: 'SpeechToText', params: { keywords: ['play music', 'stop'] } },
      ],
      connections: [{ from: 'tts', to: 'stt' }],
    };
    // Each 100 ms chunk would be an utterance: the stream is cut at silences instead.
    chain.nodes[1]!.params = { keywords: ['play music', 'stop'], endpointing: 'silence' };
    const outputs = await sandboxed.run(chain, [RuntimeData.text('play music')]);
    expect(outputs.map((o) => o.data).filter((d) => d.kind === 'text')).toMatchObject([
      { text: 'play music' },
    ]);
    expect(gateway.sandboxed).toBeDefined();
  }, 60_000);

  it('a token that does not grant SpeechToText is refused, naming it', async () => {
    const token = await mintGatewayToken(SECRET, { nodeTypes: ['Resample'] });
    const other = new RemoteProxyClient({ host: '127.0.0.1', port: gateway.port }, { token });
    const error = await other.run(recognise({ keywords: ['stop'] }), []).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(String((error as Error).message)).toMatch(/node type 'SpeechToText'/);
  });
});

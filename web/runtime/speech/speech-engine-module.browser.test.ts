import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeData } from '../../core/index.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import nodesDoc from '../../../docs/nodes.md?raw';

/**
 * A node module that brings a recognition engine (`speechToTextEngines`): the
 * shipped SpeechToText in the real pipeline worker uses it when a manifest names
 * it, in Chromium through createRuntime. The engine here is a test engine: it
 * answers a fixed transcript built from what it was given (its options, the
 * samples it received, the thread it ran on), so each part of the seam is seen.
 */
const runtimes: Runtime[] = [];
afterAll(() => {
  for (const runtime of runtimes) runtime.dispose();
});

/** An ES module file the worker can import, made on the page. */
function moduleUrl(source: string): string {
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

const TEST_ENGINE_MODULE = `
  export const speechToTextEngines = {
    'test-fixed-transcript': async (options) => {
      let samples = 0;
      return {
        sampleRate: 16000,
        start() { samples = 0; },
        accept(pcm16) { samples += pcm16.length; },
        finish() {
          const text = [options.engineOptions.say ?? 'hello', samples, globalThis.constructor.name].join(' ');
          return { text, words: [{ word: text, startS: 0, endS: samples / 16000 }] };
        },
        close() {},
      };
    },
  };
`;

const stt = (params: Record<string, unknown>) => ({
  version: 'v1' as const,
  metadata: { name: 'byo-engine' },
  nodes: [
    { id: 'stt', node_type: 'SpeechToText', params: { transcript_events: false, ...params } },
  ],
  connections: [],
});

describe('a node module that brings a SpeechToText engine', () => {
  it('is used by name by the shipped SpeechToText, in the pipeline worker', async () => {
    const runtime = await createRuntime({ nodeModules: [moduleUrl(TEST_ENGINE_MODULE)] });
    runtimes.push(runtime);
    const audio = RuntimeData.audio(new Float32Array(4000).fill(0.1), 16000, 1);
    const out = await runtime.execute(
      stt({ engine: 'test-fixed-transcript', engine_options: { say: 'open the door' } }),
      audio,
    );
    expect(out).toMatchObject({
      kind: 'text',
      text: 'open the door 4000 DedicatedWorkerGlobalScope',
    });
    // The module adds an engine, not a node type: SpeechToText is still the shipped one.
    expect((await runtime.nodeTypes()).filter((t) => t === 'SpeechToText')).toHaveLength(1);
  });

  it("docs/nodes.md's example engine module runs as written", async () => {
    const block = /#### Bring your own engine[\s\S]*?```js\n([\s\S]*?)```/.exec(nodesDoc)?.[1];
    expect(block).toContain('export const speechToTextEngines');
    const runtime = await createRuntime({ nodeModules: [moduleUrl(block!)] });
    runtimes.push(runtime);
    const audio = RuntimeData.audio(new Float32Array(1600), 16000, 1);
    const out = await runtime.execute(stt({ engine: 'my-whisper' }), audio);
    expect(out).toMatchObject({ kind: 'text', text: 'hello' });
  });

  it('an engine nobody has is still a clear error, naming the engines the browser has', async () => {
    const runtime = await createRuntime({ nodeModules: [moduleUrl(TEST_ENGINE_MODULE)] });
    runtimes.push(runtime);
    await expect(
      runtime.execute(
        stt({ engine: 'whisper-nobody-brought' }),
        RuntimeData.audio(new Float32Array(160), 16000, 1),
      ),
    ).rejects.toThrow(
      /SpeechToText, engine "whisper-nobody-brought"\) runs on a gateway.*"engine": "pocketsphinx" or "test-fixed-transcript"/,
    );
  });

  it("a manifest's gateway does not move a module's engine, and takes the engines nobody in the browser has", async () => {
    const runtime = await createRuntime({ nodeModules: [moduleUrl(TEST_ENGINE_MODULE)] });
    runtimes.push(runtime);
    // No token and nothing on port 1: a node placed there fails at the gateway step, not planning.
    const gateway = { host: '127.0.0.1', port: 1 };
    const audio = () => RuntimeData.audio(new Float32Array(160), 16000, 1);
    const here = { ...stt({ engine: 'test-fixed-transcript' }), gateway };
    expect(await runtime.execute(here, audio())).toMatchObject({ kind: 'text' });
    const there = { ...stt({ engine: 'whisper-nobody-brought' }), gateway };
    const error = await runtime.execute(there, audio()).catch((e: unknown) => e);
    expect(String(error)).toMatch(/nodes on the gateway at 127\.0\.0\.1:1/);
    expect(String(error)).not.toMatch(/runs on a gateway, and the manifest names none/);
  });

  it('a wrong export shape fails createRuntime with a typed error naming the module', async () => {
    const notAFunction = moduleUrl(
      `export const speechToTextEngines = { 'my-whisper': 'weights.bin' };`,
    );
    const error = await createRuntime({ nodeModules: [notAFunction] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'usage' });
    expect(String((error as Error).message)).toMatch(
      /^node module blob:\S+: speechToTextEngines\["my-whisper"\] is string, not a function \(options\) => Promise<Recognizer>; valid is/,
    );

    const anArray = moduleUrl(`export const speechToTextEngines = [async () => ({})];`);
    await expect(createRuntime({ nodeModules: [anArray] })).rejects.toThrow(
      /node module blob:\S+: speechToTextEngines is an array, not an object of engine factories by name/,
    );

    const shipped = moduleUrl(
      `export const speechToTextEngines = { pocketsphinx: async () => ({}) };`,
    );
    await expect(createRuntime({ nodeModules: [shipped] })).rejects.toThrow(
      /node module blob:\S+: speechToTextEngines\["pocketsphinx"\]: the worker already has a recognition engine of that name/,
    );
  });
});

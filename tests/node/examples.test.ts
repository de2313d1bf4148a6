import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickstart } from '../../examples/quickstart.ts';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const token = 'examples-token-0123456789';

/** This machine's environment, with the repository's package on the path and no gateway unless given. */
function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('REMOTEMEDIA_')),
  );
  return { ...env, PYTHONPATH: 'python-packages', ...extra };
}

describe('examples', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, tokens: [token] });
  });
  afterAll(async () => {
    await gateway?.close();
  });
  const onGateway = () => ({
    REMOTEMEDIA_GATEWAY_URL: `ws://127.0.0.1:${gateway.port}`,
    REMOTEMEDIA_GATEWAY_TOKEN: token,
  });

  it('the README quickstart runs and prints what the README says', async () => {
    expect(await quickstart()).toEqual([
      'unary: {"kind":"text","text":"20 ms"}',
      'describe: {"kind":"text","text":"40 ms"}',
      'describe: {"kind":"text","text":"60 ms"}',
    ]);
  });

  // The original's notes on Pipeline.run(): AudioSource then AudioTransform, run with no input.
  it.each([
    ['the pure-Python executor', {}, "'source_pipeline': running on the pure-Python executor"],
    ['a gateway', 'gateway', "'source_pipeline': the runtime ran it (gateway ws://127.0.0.1:"],
  ] as const)(
    "the original's source pipeline runs as written on %s",
    async (_where, env, logged) => {
      const { stdout, stderr } = await run(
        PYTHON,
        [
          'python-packages/examples/original/run.py',
          'python-packages/examples/original/source_pipeline.py',
        ],
        { env: pythonEnv(env === 'gateway' ? onGateway() : {}) },
      );
      expect(stdout).toBe('[1, 2, 3, 4, 5]\n');
      expect(stderr).toContain(logged);
    },
  );

  it("the original's speech chain recognises here, speaks on the gateway, and the reply reads back", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speech-chain-'));
    const speech = join(dir, 'speech.wav');
    const reply = join(dir, 'reply.wav');
    await run('espeak-ng', ['-v', 'en-us', '-w', speech, 'please call me tomorrow']);
    const sessionsBefore = gateway.metrics.sessionsTotal;
    const { stdout, stderr } = await run(PYTHON, ['examples/speech_chain.py', speech, reply], {
      env: pythonEnv(onGateway()),
    });
    // The original's names, honestly mapped: each says which engine really runs.
    expect(stderr).toContain("WhisperNode(model='tiny.en') runs on the pocketsphinx engine");
    expect(stderr).toContain("TTSNode(model='bark') runs on the espeak-ng engine");
    // Recognition ran here (the gateway does not run RemoteObjectExecutionNode as a
    // manifest node: Pipeline.run fell back, and the TTS object went to the gateway).
    expect(stdout).toContain('ran: python (the runtime does not know the node types of TTSRemote)');
    expect(gateway.metrics.sessionsTotal).toBeGreaterThan(sessionsBefore);
    const heard = /heard: '([^']*)'/.exec(stdout)?.[1];
    expect(heard, stdout).toMatch(/\w/);
    const seconds = Number(/reply: ([\d.]+) s at 22050 Hz/.exec(stdout)?.[1]);
    // espeak-ng speaks about 2.5 words a second (175 wpm): a plausible length for what was heard.
    const words = heard!.split(' ').length;
    expect(seconds).toBeGreaterThan(0.15 * words);
    expect(seconds).toBeLessThan(1 + 1.0 * words);
    // PocketSphinx, given the heard sentence as its grammar, reads the reply back as it.
    const check = [
      'import sys',
      'from remotemedia import RuntimeData',
      'from remotemedia.nodes import Resample, SpeechToText',
      'from remotemedia.nodes.audio import read_wav',
      'samples, rate, channels = read_wav(sys.argv[1])',
      'assert channels == 1, channels',
      'level = (sum(v * v for v in samples) / len(samples)) ** 0.5',
      'audio = Resample(target_rate=16000).process(RuntimeData.audio(samples, rate))',
      'asr = SpeechToText(keywords=[sys.argv[2]])',
      'texts = [o.text for o in asr.process(audio) if o.kind == "text"]',
      'print(json.dumps({"level": level, "texts": texts}))',
    ].join('\n');
    const back = await run(PYTHON, ['-c', `import json\n${check}`, reply, heard!], {
      env: pythonEnv(),
    });
    const { level, texts } = JSON.parse(back.stdout) as { level: number; texts: string[] };
    expect(level).toBeGreaterThan(0.02); // RMS: speech, not silence
    expect(level).toBeLessThan(0.7); // and not clipped noise
    expect(texts).toEqual([heard]);
    // A hang detector: three CPython processes and two speech engines take ~10 s alone, 30 s on a loaded machine.
  }, 120_000);
});

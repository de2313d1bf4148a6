/**
 * Recognition benchmark page (bench/speech-recognition.bench.ts): PocketSphinx
 * compiled to WASM, on this page's thread, decoding utterances given as 16-bit PCM —
 * the engine called directly (Recognizer: start, 100 ms pieces, finish), and the
 * SpeechToText node around it (one stream session, one audio item per utterance).
 * The module, wasm and model are fetched from the dev server's assets folder; the
 * first load is timed apart (it is what a page pays once).
 */
import { PipelineRunner, RuntimeData } from '../../web/core/internal.ts';
import { resolveAssetsBase } from '../../web/runtime/assets.ts';
import { POCKETSPHINX, pocketSphinxEngine } from '../../web/runtime/speech/pocketsphinx-stt.ts';
import { createSpeechToText } from '../../web/runtime/speech/speech-to-text-node.ts';

interface Input {
  grammar: string | null;
  /** base64 of little-endian int16 PCM at 16 kHz, one utterance each. */
  utterances: string[];
  rounds: number;
}

interface Run {
  ms: number;
  hyp: string;
}

const PIECE = 1600;

function decode(base64: string): Int16Array {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Int16Array(bytes.buffer);
}

async function runRecognitionBench(input: Input) {
  const engine = pocketSphinxEngine(() => ({
    base: `${resolveAssetsBase(undefined)}pocketsphinx/`,
  }));
  const audio = input.utterances.map(decode);
  const grammar = input.grammar ?? undefined;
  const signal = new AbortController().signal;
  const options = { grammar, keywords: undefined, engineOptions: {}, nodeId: 'bench', signal };
  let started = performance.now();
  const recognizer = await engine(options);
  const loadMs = performance.now() - started; // first use: fetch, compile, model into MEMFS, init
  started = performance.now();
  const second = await engine(options);
  const initMs = performance.now() - started; // another decoder in the loaded module
  second.close();

  const runner = new PipelineRunner({
    nodes: [createSpeechToText({ engines: { [POCKETSPHINX]: engine } })],
  });
  const session = await runner.createStreamSession({
    version: 'v1',
    metadata: { name: 'bench-stt' },
    nodes: [
      { id: 'stt', node_type: 'SpeechToText', params: grammar === undefined ? {} : { grammar } },
    ],
    connections: [],
  });
  const floats = audio.map((pcm) => Float32Array.from(pcm, (v) => v / 32767));
  // Engine and node take turns on each utterance, so a change of the machine's load
  // falls on both alike.
  const direct: Run[][] = [];
  const node: Run[][] = [];
  for (let r = 0; r < input.rounds; r++) {
    const directRuns: Run[] = [];
    const nodeRuns: Run[] = [];
    for (const [i, pcm] of audio.entries()) {
      let t0 = performance.now();
      recognizer.start();
      for (let at = 0; at < pcm.length; at += PIECE)
        recognizer.accept(pcm.subarray(at, at + PIECE));
      const { text } = recognizer.finish();
      directRuns.push({ ms: performance.now() - t0, hyp: text });
      t0 = performance.now();
      await session.sendInput(RuntimeData.audio(floats[i]!, 16000, 1));
      const hyp = await transcriptOf(session);
      nodeRuns.push({ ms: performance.now() - t0, hyp });
    }
    direct.push(directRuns);
    node.push(nodeRuns);
  }
  recognizer.close();
  await session.close();
  return { loadMs, initMs, direct, node };
}

/** The text of the session's next transcript event (the utterance's last output). */
async function transcriptOf(session: {
  recvOutput(): Promise<{ data: RuntimeData } | undefined>;
}): Promise<string> {
  for (;;) {
    const out = await session.recvOutput();
    if (out === undefined) throw new Error('the session ended');
    if (out.data.kind === 'event' && out.data.name === 'transcript') {
      return (out.data.payload as { text: string }).text;
    }
  }
}

(window as unknown as { runRecognitionBench: typeof runRecognitionBench }).runRecognitionBench =
  runRecognitionBench;

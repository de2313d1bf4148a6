/**
 * Test page: the microphone (Chromium's fake capture device playing a WAV) through
 * the capture AudioWorklet and a ring into a pipeline worker, for a given time.
 */
import { createRuntime, type Manifest, openMicrophone } from '../../../web/index.ts';

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'microphone' },
  nodes: [
    { id: 'in', node_type: 'PassThrough', params: {} },
    { id: 'vad', node_type: 'EnergyVAD', params: {} },
  ],
  connections: [{ from: 'in', to: 'vad' }],
};

export interface MicrophoneResult {
  sampleRate: number;
  received: number;
  written: number;
  dropped: number;
  seconds: number;
  events: string[];
  direct: boolean;
}

async function runMicrophone(seconds: number): Promise<MicrophoneResult> {
  const runtime = await createRuntime();
  const mic = await openMicrophone();
  const session = await runtime.stream(manifest, { input: mic });
  const events: string[] = [];
  let received = 0;
  const reading = (async () => {
    for await (const { data } of session) {
      if (data.kind === 'audio') received += data.samples.length;
      else if (data.kind === 'event') events.push(data.name);
    }
  })();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await session.close();
  const elapsed = (performance.now() - started) / 1000;
  await reading;
  runtime.dispose();
  const { written, dropped } = mic.stats();
  return {
    sampleRate: mic.sampleRate,
    received,
    written,
    dropped,
    seconds: elapsed,
    events,
    direct: mic.ring !== undefined,
  };
}

(globalThis as { runMicrophone?: typeof runMicrophone }).runMicrophone = runMicrophone;

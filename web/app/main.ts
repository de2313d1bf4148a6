/**
 * The demo page: the audio studio (live pipelines on the microphone, a file or the
 * bundled speech sample), and a manifest playground that runs any manifest in the
 * pipeline worker and shows the outputs, or the error with the path it names.
 */
import calculator from '../../examples/manifests/calculator.json';
import passthrough from '../../examples/manifests/passthrough.json';
import pythonInline from '../../examples/manifests/python-inline.json';
import {
  createRuntime,
  type JsonValue,
  RemoteMediaError,
  RuntimeData,
  type SessionOutput,
} from '../index.ts';
import { get, set } from 'idb-keyval';
import { platform } from '../platform.ts';
import { registerServiceWorker } from './service-worker-registration.ts';
import { createSpeaker } from './studio/speaker-node.ts';
import { startStudio } from './studio/studio.ts';

const examples: Record<string, unknown> = {
  'Calculator: PassThrough → add 5 → PassThrough': calculator,
  'PassThrough (the original example)': passthrough,
  'Python: an inline node in Pyodide after a Calculator': pythonInline,
};

const PLAYGROUND_KEY = 'remotemedia-playground-manifest';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const select = $<HTMLSelectElement>('example');
const manifestBox = $<HTMLTextAreaElement>('manifest');
const inputsBox = $<HTMLInputElement>('inputs');
const runButton = $<HTMLButtonElement>('run');
const outputsBody = $<HTMLTableSectionElement>('outputs');
const errorBox = $<HTMLPreElement>('error');
const timing = $<HTMLParagraphElement>('timing');

for (const name of Object.keys(examples)) select.add(new Option(name, name));
const showExample = () => {
  manifestBox.value = JSON.stringify(examples[select.value], null, 2);
};
select.addEventListener('change', () => {
  showExample();
  void set(PLAYGROUND_KEY, manifestBox.value);
});
// The manifest as last edited is kept in IndexedDB and comes back on reload.
const saved = await get<string>(PLAYGROUND_KEY).catch(() => undefined);
if (saved) manifestBox.value = saved;
else showExample();
manifestBox.addEventListener('input', () => void set(PLAYGROUND_KEY, manifestBox.value));

document.getElementById('version')!.textContent = `v${__APP_VERSION__}`;
registerServiceWorker();
// The voice loop's speaker is a page node: the audio graph lives on this thread.
const speaker = createSpeaker();
const transport = await createRuntime({ nodes: [speaker.definition] });
void startStudio(transport, speaker);
void transport.nodeTypes().then((types) => {
  status.textContent = `Worker ready (${platform.crossOriginIsolated ? 'cross-origin isolated' : 'NOT cross-origin isolated'}). Node types: ${types.join(', ')}`;
  runButton.disabled = false;
  (document.getElementById('studio-run') as HTMLButtonElement).disabled = false;
});

function showError(error: unknown): void {
  errorBox.hidden = false;
  errorBox.textContent =
    error instanceof RemoteMediaError
      ? `[${error.kind}] ${error.message}`
      : String((error as Error)?.message ?? error);
}

function describe(output: SessionOutput): string {
  const { data } = output;
  switch (data.kind) {
    case 'json':
      return JSON.stringify(data.value);
    case 'text':
      return data.text;
    case 'event':
      return `${data.name} @ ${data.timestampUs ?? '?'} µs`;
    case 'audio':
      return `${data.samples.length / data.channels} frames @ ${data.sampleRate} Hz × ${data.channels}`;
    default:
      return data.kind;
  }
}

runButton.addEventListener('click', async () => {
  errorBox.hidden = true;
  outputsBody.replaceChildren();
  timing.textContent = '';
  let inputs: JsonValue[];
  try {
    const parsed = JSON.parse(inputsBox.value) as JsonValue;
    inputs = Array.isArray(parsed) ? parsed : [parsed];
  } catch (error) {
    showError(new Error(`Inputs are not JSON: ${(error as Error).message}`));
    return;
  }
  runButton.disabled = true;
  const started = performance.now();
  try {
    const outputs = await transport.run(
      manifestBox.value,
      inputs.map((v) => RuntimeData.json(v)),
    );
    timing.textContent = `${outputs.length} outputs in ${(performance.now() - started).toFixed(1)} ms (worker round trip included)`;
    outputs.forEach((output, i) => {
      const row = outputsBody.insertRow();
      for (const text of [String(i), output.nodeId, output.data.kind, describe(output)]) {
        row.insertCell().textContent = text;
      }
    });
  } catch (error) {
    showError(error);
  } finally {
    runButton.disabled = false;
  }
});

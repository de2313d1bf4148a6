/**
 * The audio studio of the demo: pick an input and a preset, run it live, watch the
 * waveform, speech probability and segments, log-mel image and per-node metrics
 * update; play back each detected segment; edit the Python node while it runs.
 */
import {
  type AudioData,
  type AudioSource,
  audioBlocks,
  decodeAudio,
  type JsonData,
  type Manifest,
  type NodeMetricsSnapshot,
  openAudioFile,
  openMicrophone,
  RemoteMediaError,
  type Runtime,
  type RuntimeSession,
  type SessionOutput,
} from '../../index.ts';
import speechSampleUrl from '../assets/speech-sample.wav?url';
import { placeOnGateway, remoteOf, renderPlacement, watchGateway } from './gateway-panel.ts';
import { renderGraph } from './graph-view.ts';
import { LiveViews } from './live-views.ts';
import { renderMetrics } from './metrics-view.ts';
import { DEFAULT_PYTHON_SOURCE, PRESETS, pythonManifest } from './presets.ts';
import { loadState, saveState, type StudioState } from './saved-state.ts';

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T;

export async function startStudio(runtime: Runtime): Promise<void> {
  const presetSelect = $<HTMLSelectElement>('#preset');
  const inputSelect = $<HTMLSelectElement>('#input');
  const fileInput = $<HTMLInputElement>('#file');
  const realTime = $<HTMLInputElement>('#realtime');
  const runButton = $<HTMLButtonElement>('#studio-run');
  const stopButton = $<HTMLButtonElement>('#studio-stop');
  const description = $<HTMLParagraphElement>('#preset-description');
  const studioStatus = $<HTMLParagraphElement>('#studio-status');
  const editor = $<HTMLTextAreaElement>('#python-source');
  const applyButton = $<HTMLButtonElement>('#python-apply');
  const editorStatus = $<HTMLParagraphElement>('#python-status');
  const pythonOutputs = $<HTMLOListElement>('#python-outputs');
  const segmentsList = $<HTMLOListElement>('#segments');
  const metricsBody = $<HTMLTableSectionElement>('#metrics tbody');
  const captureStats = $<HTMLParagraphElement>('#capture-stats');
  const views = new LiveViews($('#waveform'), $('#vad'), $('#logmel'));
  const gatewayAddress = $<HTMLInputElement>('#gateway-address');
  const gatewayToken = $<HTMLInputElement>('#gateway-token');
  const placement = $<HTMLDivElement>('#placement');

  const state: StudioState = await loadState({
    preset: 'segmenter',
    input: 'sample',
    pythonSource: DEFAULT_PYTHON_SOURCE,
    gatewayAddress: '127.0.0.1:8765',
    gatewayToken: '',
    onGateway: {},
  });
  // `npm start` prints the demo's address with the token of the gateway it started.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('gateway-token');
  if (fromHash) state.gatewayToken = fromHash;
  gatewayAddress.value = state.gatewayAddress;
  gatewayToken.value = state.gatewayToken;
  watchGateway(() => gatewayAddress.value, $('#gateway-status'));
  for (const preset of PRESETS) presetSelect.add(new Option(preset.title, preset.id));
  presetSelect.value = state.preset;
  inputSelect.value = state.input;
  editor.value = state.pythonSource;

  const onGateway = () => new Set(state.onGateway[presetSelect.value] ?? []);
  const manifestOf = (id: string): Manifest =>
    placeOnGateway(
      id === 'python' ? pythonManifest(editor.value) : PRESETS.find((p) => p.id === id)!.manifest,
      onGateway(),
      remoteOf(gatewayAddress.value),
    );
  const showPreset = () => {
    const preset = PRESETS.find((p) => p.id === presetSelect.value) ?? PRESETS[0]!;
    description.textContent = preset.description;
    document.body.dataset.preset = preset.id;
    const manifest = manifestOf(preset.id);
    renderGraph($('#graph'), manifest);
    renderPlacement(placement, manifest, onGateway(), (ids) => {
      state.onGateway[preset.id] = [...ids];
      remember();
      renderGraph($('#graph'), manifestOf(preset.id));
    });
  };
  const remember = () => {
    state.preset = presetSelect.value;
    state.input = inputSelect.value as StudioState['input'];
    state.pythonSource = editor.value;
    state.gatewayAddress = gatewayAddress.value;
    state.gatewayToken = gatewayToken.value;
    void saveState(state);
  };
  gatewayAddress.addEventListener('change', remember);
  gatewayToken.addEventListener('change', remember);
  presetSelect.addEventListener('change', () => {
    showPreset();
    remember();
  });
  inputSelect.addEventListener('change', () => {
    fileInput.hidden = inputSelect.value !== 'file';
    remember();
  });
  fileInput.hidden = inputSelect.value !== 'file';
  showPreset();
  void preloadModel($('#model-progress'));

  let running:
    | {
        session: RuntimeSession;
        stop(): Promise<void>;
        /** What the capture worklet delivered and dropped (live inputs). */
        capture?(): { written: number; dropped: number };
      }
    | undefined;

  runButton.addEventListener('click', async () => {
    if (running) return;
    remember();
    views.reset();
    metricsBody.replaceChildren();
    segmentsList.replaceChildren();
    pythonOutputs.replaceChildren();
    runButton.disabled = true;
    try {
      if (presetSelect.value === 'python') await warmPython(runtime, $('#python-progress'));
      const manifest = manifestOf(presetSelect.value);
      const gatewayOptions = { gatewayToken: gatewayToken.value || undefined };
      let session: RuntimeSession;
      if (realTime.checked || inputSelect.value === 'microphone') {
        const source = await openInput(inputSelect.value, fileInput.files?.[0]);
        // A pipeline that cannot start must not leave the microphone (or a context) on.
        session = await runtime
          .stream(manifest, { input: source, ...gatewayOptions })
          .catch(async (error: unknown) => {
            await source.stop();
            throw error;
          });
        running = { session, stop: () => source.stop(), capture: () => source.stats() };
      } else {
        // As fast as the pipeline goes: decoded, cut in 20 ms blocks, sent in order.
        const audio = await decodeAudio(
          await inputBytes(inputSelect.value, fileInput.files?.[0]),
          48000,
        );
        session = await runtime.stream(manifest, gatewayOptions);
        let stopped = false;
        running = { session, stop: async () => void (stopped = true) };
        void (async () => {
          for (const block of audioBlocks(audio, 960)) {
            if (stopped) break;
            await session.sendInput(block);
          }
          await session.close();
        })().catch(() => {}); // a failure ends the session: consume reports it
      }
      stopButton.disabled = false;
      applyButton.disabled = presetSelect.value !== 'python';
      studioStatus.textContent = `Running ${presetSelect.selectedOptions[0]!.text}…`;
      const live = running;
      // Islands end one by one: keep each node's last figures.
      const lastMetrics = new Map<string, NodeMetricsSnapshot>();
      const refresh = () =>
        session.metrics().then(
          (m) => {
            for (const node of m) lastMetrics.set(node.nodeId, node);
            if (lastMetrics.size > 0) renderMetrics(metricsBody, [...lastMetrics.values()]);
            const capture = live.capture?.();
            captureStats.textContent = capture
              ? `Capture: ${capture.written} samples delivered, ${capture.dropped} dropped (ring full).`
              : 'Input sent as fast as the pipeline takes it: nothing can be dropped.';
          },
          () => {},
        );
      const metrics = setInterval(() => void refresh(), 250);
      try {
        await consume(session, views, segmentsList, pythonOutputs, refresh);
        const segments =
          presetSelect.value === 'segmenter' ? `, ${views.segments.length} speech segments` : '';
        studioStatus.textContent = `Done: ${views.nowS.toFixed(1)} s of audio${segments}.`;
        document.body.dataset.studio = 'done';
      } finally {
        clearInterval(metrics);
      }
    } catch (error) {
      studioStatus.textContent = messageOf(error);
      document.body.dataset.studio = 'failed';
    } finally {
      running = undefined;
      runButton.disabled = false;
      stopButton.disabled = true;
      applyButton.disabled = true;
    }
  });

  stopButton.addEventListener('click', () => void running?.stop());

  applyButton.addEventListener('click', async () => {
    remember();
    editorStatus.textContent = 'Applying…';
    try {
      await runtime.updatePythonNode('python', { source: editor.value });
      editorStatus.textContent = `Applied at ${views.nowS.toFixed(1)} s, without restarting the audio.`;
      const marker = document.createElement('li');
      marker.className = 'swap';
      marker.textContent = `— new source from ${views.nowS.toFixed(1)} s —`;
      pythonOutputs.append(marker);
    } catch (error) {
      editorStatus.textContent = messageOf(error);
    }
  });
  editor.addEventListener('input', remember);
}

async function openInput(kind: string, file: File | undefined): Promise<AudioSource> {
  if (kind === 'microphone') return openMicrophone();
  return openAudioFile(await inputBytes(kind, file), { monitor: true });
}

/** The bytes of the chosen file, or of the bundled sample. */
async function inputBytes(kind: string, file: File | undefined): Promise<ArrayBuffer> {
  if (kind === 'file') {
    if (!file) throw new RemoteMediaError('usage', 'Pick an audio file first.');
    return file.arrayBuffer();
  }
  return (await fetch(speechSampleUrl)).arrayBuffer();
}

/** Routes each output to its view, by the node that made it. */
async function consume(
  session: RuntimeSession,
  views: LiveViews,
  segmentsList: HTMLOListElement,
  pythonOutputs: HTMLOListElement,
  refreshMetrics: () => Promise<unknown>,
): Promise<void> {
  let segmentAudio: AudioData | undefined;
  let outputs = 0;
  for await (const { nodeId, data } of session as AsyncIterable<SessionOutput>) {
    // Near the end the session's islands are still up: keep their last figures.
    if (++outputs % 25 === 0) void refreshMetrics();
    if (nodeId === 'waveform' && data.kind === 'audio') views.addAudio(data);
    else if (data.kind === 'event') {
      const timeS = (data.timestampUs ?? 0) / 1e6;
      if (data.name === 'vad_probability') {
        views.addProbability(timeS, (data.payload as { probability: number }).probability);
      } else if (data.name === 'speech_start') views.speechStart(timeS);
      else if (data.name === 'speech_end') {
        views.speechEnd(timeS, segmentAudio);
        addSegment(segmentsList, views.segments.length, segmentAudio, timeS);
        segmentAudio = undefined;
      }
    } else if (nodeId === 'vad' && data.kind === 'audio') segmentAudio = data;
    else if (data.kind === 'tensor') views.addLogMel(data);
    else if (nodeId === 'python') {
      const item = document.createElement('li');
      item.textContent = `${views.nowS.toFixed(2)} s: ${JSON.stringify((data as JsonData).value ?? data.kind)}`;
      pythonOutputs.append(item);
      if (pythonOutputs.children.length > 2000) pythonOutputs.firstElementChild!.remove();
      pythonOutputs.scrollTop = pythonOutputs.scrollHeight;
    }
  }
}

function addSegment(
  list: HTMLOListElement,
  index: number,
  audio: AudioData | undefined,
  endS: number,
): void {
  const item = document.createElement('li');
  const seconds = audio ? audio.samples.length / audio.sampleRate : 0;
  const label = document.createElement('span');
  label.textContent = `Segment ${index}: ${(endS - seconds).toFixed(2)}–${endS.toFixed(2)} s`;
  const play = document.createElement('button');
  play.type = 'button';
  play.textContent = '▶ Play';
  play.disabled = !audio;
  play.addEventListener('click', () => {
    if (!audio) return;
    const context = new AudioContext({ sampleRate: audio.sampleRate });
    const buffer = context.createBuffer(1, audio.samples.length, audio.sampleRate);
    buffer.copyToChannel(audio.samples as Float32Array<ArrayBuffer>, 0);
    const node = new AudioBufferSourceNode(context, { buffer });
    node.connect(context.destination);
    node.onended = () => void context.close();
    node.start();
  });
  item.append(label, play);
  list.append(item);
}

/** Pyodide's load, on a progress bar (only the first time: it stays warm). */
async function warmPython(runtime: Runtime, bar: HTMLProgressElement): Promise<void> {
  bar.hidden = false;
  const label = bar.nextElementSibling as HTMLElement | null;
  await runtime.warmPython((stage, fraction) => {
    bar.value = fraction;
    if (label) label.textContent = `Python: ${stage}`;
  });
  bar.value = 1;
  if (label) label.textContent = 'Python ready';
}

/**
 * Fetches the Silero model once with progress: the worker's own fetch then comes
 * from the HTTP cache (or the service worker's precache).
 */
async function preloadModel(bar: HTMLProgressElement): Promise<void> {
  const label = bar.nextElementSibling as HTMLElement | null;
  try {
    const response = await fetch(
      `${import.meta.env.BASE_URL}remotemedia-web/silero/silero_vad_v5.onnx`,
    );
    const total = Number(response.headers.get('content-length')) || 2_300_000;
    const reader = response.body!.getReader();
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.length;
      bar.value = Math.min(1, loaded / total);
    }
    bar.value = 1;
    if (label) label.textContent = 'VAD model ready';
  } catch (error) {
    if (label) label.textContent = `VAD model: ${messageOf(error)}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof RemoteMediaError
    ? `[${error.kind}] ${error.message}`
    : String((error as Error)?.message ?? error);
}

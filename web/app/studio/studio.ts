/**
 * The audio studio of the demo: pick an input and a preset, run it live, watch the
 * waveform, speech probability and segments, log-mel image and per-node metrics
 * update; play back each detected segment; edit the Python node while it runs;
 * talk to the voice loop (voice-loop.ts) and read its transcript.
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
import type { Speaker } from './speaker-node.ts';
import { createTranscriptPanel, type TranscriptPanel } from './transcript-panel.ts';
import { DEFAULT_REPLY_SOURCE, type Recognition, voiceLoopManifest } from './voice-loop.ts';

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T;

/** The preset whose Python node the editor shows, and that node's id. */
const EDITED_NODE: Record<string, string> = { python: 'python', voice: 'reply' };

export async function startStudio(runtime: Runtime, speaker: Speaker): Promise<void> {
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
  const transcript: TranscriptPanel = createTranscriptPanel($('#studio .columns'));

  const state: StudioState = await loadState({
    preset: 'segmenter',
    input: 'sample',
    pythonSource: DEFAULT_PYTHON_SOURCE,
    replySource: DEFAULT_REPLY_SOURCE,
    recognition: 'commands',
    gatewayAddress: '127.0.0.1:8765',
    gatewayToken: '',
    onGateway: {},
  });
  // `npm start` prints the demo's address with the token of the gateway it started.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('gateway-token');
  if (fromHash) state.gatewayToken = fromHash;
  gatewayAddress.value = state.gatewayAddress;
  gatewayToken.value = state.gatewayToken;
  const recheckGateway = watchGateway(
    () => gatewayAddress.value,
    () => gatewayToken.value.trim() !== '',
    $('#gateway-status'),
  );
  for (const preset of PRESETS) presetSelect.add(new Option(preset.title, preset.id));
  presetSelect.value = state.preset;
  inputSelect.value = state.input;
  transcript.recognition.value = state.recognition;
  /** The editor holds the source of the preset's Python node (PythonNode or reply). */
  const showSource = () => {
    editor.value = presetSelect.value === 'voice' ? state.replySource : state.pythonSource;
  };
  showSource();

  const onGateway = () => new Set(state.onGateway[presetSelect.value] ?? []);
  const manifestOf = (id: string): Manifest => {
    const gateway = remoteOf(gatewayAddress.value);
    const base =
      id === 'python'
        ? pythonManifest(state.pythonSource)
        : id === 'voice'
          ? // The manifest's "gateway" is where nodes with a gateway-only engine would go;
            // SpeechToText and TextToSpeech run in the browser unless switched (below).
            {
              ...voiceLoopManifest(state.replySource, transcript.recognition.value as Recognition),
              ...(gatewayToken.value.trim() ? { gateway } : {}),
            }
          : PRESETS.find((p) => p.id === id)!.manifest;
    return placeOnGateway(base, onGateway(), gateway);
  };
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
    state.recognition = transcript.recognition.value as Recognition;
    state.gatewayAddress = gatewayAddress.value;
    state.gatewayToken = gatewayToken.value;
    void saveState(state);
  };
  for (const field of [gatewayAddress, gatewayToken]) {
    field.addEventListener('change', () => {
      remember();
      recheckGateway();
      showPreset();
    });
  }
  transcript.recognition.addEventListener('change', () => {
    remember();
    showPreset();
  });
  presetSelect.addEventListener('change', () => {
    showSource();
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
    transcript.clear();
    // The last run's error or traceback goes with it.
    studioStatus.textContent = '';
    editorStatus.textContent = '';
    runButton.disabled = true;
    const startedAtMs = performance.now();
    speaker.reset({
      onReplyStart: (audibleAtMs) => transcript.replyAudible(audibleAtMs),
      onInterrupt: (dropped) =>
        transcript.add({
          who: 'event',
          text: `barge-in: the reply stopped (${(dropped / 16000).toFixed(2)} s dropped)`,
          atS: (performance.now() - startedAtMs) / 1000,
        }),
    });
    try {
      if (presetSelect.value in EDITED_NODE) await warmPython(runtime, $('#python-progress'));
      const manifest = manifestOf(presetSelect.value);
      const gatewayOptions = { gatewayToken: gatewayToken.value || undefined };
      let session: RuntimeSession | undefined;
      // Islands end one by one: keep each node's last figures.
      const lastMetrics = new Map<string, NodeMetricsSnapshot>();
      const refresh = async () => {
        const m = await session?.metrics().catch(() => []);
        for (const node of m ?? []) lastMetrics.set(node.nodeId, node);
        if (lastMetrics.size > 0) renderMetrics(metricsBody, [...lastMetrics.values()]);
        const capture = running?.capture?.();
        captureStats.textContent = capture
          ? `Capture: ${capture.written} samples delivered, ${capture.dropped} dropped (ring full).`
          : 'Input sent as fast as the pipeline takes it: nothing can be dropped.';
      };
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
        transcript.started(performance.now(), true);
      } else {
        // As fast as the pipeline goes: decoded, cut in 20 ms blocks, sent in order.
        const audio = await decodeAudio(
          await inputBytes(inputSelect.value, fileInput.files?.[0]),
          48000,
        );
        const fast = await runtime.stream(manifest, gatewayOptions);
        session = fast;
        let stopped = false;
        running = { session: fast, stop: async () => void (stopped = true) };
        transcript.started(performance.now(), false);
        void (async () => {
          let sent = 0;
          for (const block of audioBlocks(audio, 960)) {
            if (stopped) break;
            await fast.sendInput(block);
            // The islands end soon after the input does, taking their metrics with
            // them: read the figures while they run, and once before the end.
            if (++sent % 50 === 0) void refresh();
          }
          await refresh();
          await fast.close();
        })().catch(() => {}); // a failure ends the session: consume reports it
      }
      stopButton.disabled = false;
      applyButton.disabled = !(presetSelect.value in EDITED_NODE);
      studioStatus.textContent = `Running ${presetSelect.selectedOptions[0]!.text}…`;
      const metrics = setInterval(() => void refresh(), 250);
      try {
        await consume(session, views, segmentsList, pythonOutputs, transcript, refresh);
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
      await runtime.updatePythonNode(EDITED_NODE[presetSelect.value] ?? 'python', {
        source: editor.value,
      });
      editorStatus.textContent = `Applied at ${views.nowS.toFixed(1)} s, without restarting the audio.`;
      const marker = document.createElement('li');
      marker.className = 'swap';
      marker.textContent = `— new source from ${views.nowS.toFixed(1)} s —`;
      pythonOutputs.append(marker);
    } catch (error) {
      editorStatus.textContent = messageOf(error);
    }
  });
  editor.addEventListener('input', () => {
    if (presetSelect.value === 'voice') state.replySource = editor.value;
    else state.pythonSource = editor.value;
    remember();
  });
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
  transcript: TranscriptPanel,
  refreshMetrics: () => Promise<unknown>,
): Promise<void> {
  let segmentAudio: AudioData | undefined;
  let outputs = 0;
  for await (const { nodeId, data } of session as AsyncIterable<SessionOutput>) {
    // Near the end the session's islands are still up: keep their last figures.
    if (++outputs % 25 === 0) void refreshMetrics();
    if (nodeId === 'waveform' && data.kind === 'audio') views.addAudio(data);
    else if (nodeId === 'heard' || nodeId === 'said') {
      transcript.output(nodeId, data);
      if (data.kind === 'event' && data.name === 'speech_start') {
        views.speechStart((data.timestampUs ?? 0) / 1e6);
      } else if (data.kind === 'event' && data.name === 'speech_end') {
        const timeS = (data.timestampUs ?? 0) / 1e6;
        views.speechEnd(timeS, undefined);
        addSegment(segmentsList, views.segments.length, undefined, timeS);
      }
    } else if (data.kind === 'event') {
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

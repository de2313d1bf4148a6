/**
 * The demo's preset pipelines. Each taps its audio into a `waveform` sink (a
 * PassThrough after the resampler) so the page can draw what the pipeline hears.
 */
import type { Manifest } from '../../index.ts';
import { DEFAULT_REPLY_SOURCE, voiceLoopManifest } from './voice-loop.ts';

export interface Preset {
  id: string;
  title: string;
  description: string;
  manifest: Manifest;
}

/** The Python node of the editor preset; the page lets a person change it live. */
export const DEFAULT_PYTHON_SOURCE = `from remotemedia import Node


class Loudness(Node):
    """Loudness of each 20 ms block, in dB relative to full scale."""

    def process(self, data):
        samples = data.samples  # float32 memoryview of the block
        energy = sum(s * s for s in samples) / max(len(samples), 1)
        return {"loudness_db": round(10 * __import__("math").log10(energy + 1e-12), 1)}
`;

const resample = { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } };
const waveform = { id: 'waveform', node_type: 'PassThrough', params: {} };

export function pythonManifest(source: string): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'Python node', description: 'Resample, then a Python node in Pyodide' },
    nodes: [resample, waveform, { id: 'python', node_type: 'PythonNode', params: { source } }],
    connections: [
      { from: 'resample', to: 'waveform' },
      { from: 'resample', to: 'python' },
    ],
  };
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'segmenter',
    title: 'Speech segmenter',
    description: 'Resample → Silero VAD: speech probability and segments you can play back.',
    manifest: {
      version: 'v1',
      metadata: { name: 'Speech segmenter' },
      nodes: [
        resample,
        waveform,
        {
          id: 'vad',
          node_type: 'SileroVAD',
          params: { emit_probabilities: true, redemption_ms: 300 },
        },
      ],
      connections: [
        { from: 'resample', to: 'waveform' },
        { from: 'resample', to: 'vad' },
      ],
    },
  },
  {
    id: 'dsp',
    title: 'DSP chain',
    description: 'Resample → Gain → Rebuffer → LogMel (WASM DSP): the log-mel image.',
    manifest: {
      version: 'v1',
      metadata: { name: 'DSP chain' },
      nodes: [
        resample,
        { id: 'gain', node_type: 'Gain', params: { gain_db: 6 } },
        waveform,
        { id: 'rebuffer', node_type: 'Rebuffer', params: { frame_size: 1600 } },
        { id: 'logmel', node_type: 'LogMel', params: { n_mels: 80 } },
      ],
      connections: [
        { from: 'resample', to: 'gain' },
        { from: 'gain', to: 'waveform' },
        { from: 'gain', to: 'rebuffer' },
        { from: 'rebuffer', to: 'logmel' },
      ],
    },
  },
  {
    id: 'python',
    title: 'Python node',
    description: 'Resample → a Python node (Pyodide) whose source you edit while it runs.',
    manifest: pythonManifest(DEFAULT_PYTHON_SOURCE),
  },
  {
    id: 'voice',
    title: 'Voice loop',
    description:
      'Speak → Resample → Silero VAD → SpeechToText (PocketSphinx, in the browser or on the gateway) → a Python reply (Pyodide) → TextToSpeech → speaker; speak over a reply to interrupt it.',
    manifest: voiceLoopManifest(DEFAULT_REPLY_SOURCE, 'commands'),
  },
];

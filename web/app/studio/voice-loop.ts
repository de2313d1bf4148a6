/**
 * The studio's voice loop: microphone (or a file, or the bundled sample) → Resample
 * → SileroVAD → SpeechToText (PocketSphinx: the command grammar, or dictation; in the
 * browser's pipeline worker, or on the gateway when switched) → a Python reply node (Pyodide, editable) → TextToSpeech (flite in the
 * browser, or espeak-ng on the gateway) → the speaker, with barge-in as a manifest
 * setting: speech while a reply plays cancels the synthesis and the speaker's queue.
 */
import type { Manifest } from '../../index.ts';

/** The demo's commands: what the grammar accepts and the reply node answers. */
export const COMMANDS = [
  'what time is it',
  'what day is it',
  'hello',
  'tell me a story',
  'turn on the radio',
  'turn off the radio',
  'stop',
] as const;

export const COMMAND_GRAMMAR = `#JSGF V1.0;
grammar commands;
public <command> = ${COMMANDS.join(' | ')};
`;

export type Recognition = 'commands' | 'dictation';

/** The reply node's default source; the page lets a person edit it. */
export const DEFAULT_REPLY_SOURCE = `import time
from remotemedia import Node
from remotemedia.data import RuntimeData

STORY = (
    "Once upon a time, a small pipeline lived in a browser. Every day it listened, "
    "it thought, and it answered. It learned to stop talking when someone spoke. "
    "And it lived happily ever after, one audio chunk at a time."
)


def answer(heard):
    if heard == "what time is it":
        return time.strftime("It is %H %M.")
    if heard == "what day is it":
        return time.strftime("It is %A, %B %d.")
    if heard == "hello":
        return "Hello! Ask me the time, or for a story."
    if heard == "tell me a story":
        return STORY
    if heard == "stop":
        return "Okay."
    return "You said: " + heard + "."


class Reply(Node):
    """Answers what SpeechToText heard; its events pass by without a reply."""

    def process(self, data):
        if not isinstance(data, str) or not data.strip():
            return None
        # As text (a plain str would be a JSON value): TextToSpeech takes text.
        return RuntimeData.text_data(answer(data.strip().lower()))
`;

/** The voice loop as a manifest; every node runs in the browser until switched to a gateway. */
export function voiceLoopManifest(replySource: string, recognition: Recognition): Manifest {
  return {
    version: 'v1',
    metadata: {
      name: 'Voice loop',
      description: 'Speech in, a reply out, interruptible (barge-in)',
    },
    nodes: [
      { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
      { id: 'waveform', node_type: 'PassThrough', params: {} },
      // Tuned for turn-taking: a turn ends after 200 ms of quiet, not Silero's 500 ms.
      {
        id: 'vad',
        node_type: 'SileroVAD',
        params: { redemption_ms: 200, min_speech_ms: 150, pre_speech_pad_ms: 150 },
      },
      {
        id: 'stt',
        node_type: 'SpeechToText',
        params: recognition === 'commands' ? { grammar: COMMAND_GRAMMAR } : {},
      },
      // Transcript tap: what was heard, with VAD's events (they pass SpeechToText by).
      { id: 'heard', node_type: 'PassThrough', params: {} },
      { id: 'reply', node_type: 'PythonNode', params: { source: replySource } },
      { id: 'said', node_type: 'PassThrough', params: {} },
      { id: 'tts', node_type: 'TextToSpeech', params: { sample_rate: 16000, chunk_ms: 40 } },
      { id: 'speaker', node_type: 'Speaker', params: {}, executor: 'main' },
    ],
    connections: [
      { from: 'resample', to: 'waveform' },
      { from: 'resample', to: 'vad' },
      { from: 'vad', to: 'stt' },
      { from: 'stt', to: 'heard' },
      { from: 'stt', to: 'reply' },
      { from: 'reply', to: 'said' },
      { from: 'reply', to: 'tts' },
      { from: 'tts', to: 'speaker' },
    ],
    // Barge-in (docs/nodes.md): the user's speech_start cancels the reply in flight.
    // tts runs where vad does (the pipeline worker) or on the gateway; either way
    // placement gives each island its share (web/core/placement.ts, toAcross).
    bargeIn: { from: 'vad', on: 'speech_start', to: ['tts', 'speaker'] },
  };
}

export interface TranscriptLine {
  who: 'user' | 'reply' | 'event';
  text: string;
  /** Seconds on the input's clock (the user) or since the run started (replies). */
  atS: number;
}

/** The transcript list: one line per turn, stamped. */
export function addTranscriptLine(list: HTMLOListElement, line: TranscriptLine): void {
  const item = document.createElement('li');
  item.dataset.who = line.who;
  const time = document.createElement('time');
  time.textContent = `${line.atS.toFixed(2)} s`;
  const text = document.createElement('span');
  text.textContent =
    line.who === 'user' ? `🗣 ${line.text}` : line.who === 'reply' ? `🔊 ${line.text}` : line.text;
  item.append(time, text);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

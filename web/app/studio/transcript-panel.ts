/**
 * The voice loop's transcript: what SpeechToText heard (stamped on the input's
 * clock with the start of its first word), each reply (stamped when it was said),
 * barge-ins, and per reply the voice-to-voice latency: from the end of the user's
 * speech (VAD's speech_end, on the input's clock) to the reply's first sample at
 * the speaker. The latency is shown for real-time inputs only, where the input's
 * clock runs with the wall clock from the run's start.
 */
import type { RuntimeData } from '../../index.ts';
import { addTranscriptLine, type TranscriptLine } from './voice-loop.ts';

export interface TranscriptPanel {
  readonly recognition: HTMLSelectElement;
  readonly list: HTMLOListElement;
  clear(): void;
  /** The run started (its input clock's zero) at `atMs`; `realTime`: that clock is the wall's. */
  started(atMs: number, realTime?: boolean): void;
  output(nodeId: 'heard' | 'said', data: RuntimeData): void;
  /** The speaker will play a reply's first sample at `atMs`. */
  replyAudible(atMs: number): void;
  add(line: TranscriptLine): void;
  /** Voice-to-voice latencies measured in this run, ms. */
  readonly latenciesMs: number[];
}

export function createTranscriptPanel(container: HTMLElement): TranscriptPanel {
  const box = document.createElement('div');
  box.className = 'for-voice';
  const title = document.createElement('h3');
  title.textContent = 'Transcript';
  const label = document.createElement('label');
  const recognition = document.createElement('select');
  recognition.id = 'recognition';
  recognition.add(new Option('the command grammar (accurate)', 'commands'));
  recognition.add(new Option('dictation (general model)', 'dictation'));
  label.append('Recognition ', recognition);
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.textContent =
    'Say "what time is it", "hello", "tell me a story" (talk over it to interrupt) or "stop". Recognition runs on the gateway.';
  const list = document.createElement('ol');
  list.id = 'transcript';
  box.append(title, label, hint, list);
  container.prepend(box);

  let startedAtMs = 0;
  let realTime = false;
  let lastSpeechEndS: number | undefined;
  const latenciesMs: number[] = [];
  const sinceStartS = () => (performance.now() - startedAtMs) / 1000;
  const add = (line: TranscriptLine) => addTranscriptLine(list, line);

  return {
    recognition,
    list,
    latenciesMs,
    add,
    clear() {
      list.replaceChildren();
      latenciesMs.length = 0;
      lastSpeechEndS = undefined;
    },
    started(atMs, isRealTime = true) {
      startedAtMs = atMs;
      realTime = isRealTime;
    },
    output(nodeId, data) {
      if (nodeId === 'heard' && data.kind === 'text') {
        add({ who: 'user', text: data.text, atS: (data.timestampUs ?? 0) / 1e6 });
      } else if (nodeId === 'heard' && data.kind === 'event' && data.name === 'speech_end') {
        lastSpeechEndS = (data.timestampUs ?? 0) / 1e6;
      } else if (nodeId === 'heard' && data.kind === 'event' && data.name === 'transcript') {
        const { text } = data.payload as { text: string };
        if (!text) add({ who: 'event', text: '(heard nothing it knows)', atS: sinceStartS() });
      } else if (nodeId === 'said' && data.kind === 'text') {
        add({ who: 'reply', text: data.text, atS: sinceStartS() });
      }
    },
    replyAudible(atMs) {
      if (!realTime || lastSpeechEndS === undefined) return;
      const latency = atMs - (startedAtMs + lastSpeechEndS * 1000);
      lastSpeechEndS = undefined;
      latenciesMs.push(latency);
      const replies = list.querySelectorAll('li[data-who="reply"]');
      const last = replies[replies.length - 1];
      const note = document.createElement('small');
      note.className = 'latency';
      note.textContent = ` — first audio ${Math.round(latency)} ms after your last word`;
      (last ?? list).append(note);
    },
  };
}

/**
 * What `run --input` names, and feeding it into a session: a JSON value, a file
 * holding one, a WAV file cut into audio blocks (optionally paced like a live
 * source), or JSON lines from stdin. Bad input is an `invalid_data` error that
 * names the file (or stdin line) and says what was expected.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JsonValue, RemoteMediaError, RuntimeData } from '../core/internal.ts';
import { decodeWav, type WavAudio } from '../core/wav-codec.ts';

export type InputSource =
  | { kind: 'stdin' }
  | { kind: 'json'; values: JsonValue[] }
  | { kind: 'wav'; path: string; audio: WavAudio };

export interface FeedOptions {
  /** Audio block length for WAV input. */
  frameMs: number;
  /** Send each block when its time comes rather than as fast as the pipeline takes them. */
  realtime: boolean;
  stdin: NodeJS.ReadableStream;
  signal?: AbortSignal;
}

interface InputSession {
  sendInput(data: RuntimeData): Promise<void>;
  close(): Promise<void>;
}

const invalid = (message: string, path?: string) =>
  new RemoteMediaError('invalid_data', message, path === undefined ? {} : { path });

/** Reads what `--input` names. Throws `invalid_data` (a bad file) before any session starts. */
export function resolveInput(input: string): InputSource {
  if (input === '-') return { kind: 'stdin' };
  if (existsSync(input) && statSync(input).isFile()) {
    const bytes = readFileSync(input);
    const riff = bytes.subarray(0, 4).toString('latin1') === 'RIFF';
    if (riff || /\.wave?$/i.test(input))
      return { kind: 'wav', path: input, audio: decodeWav(bytes, input) };
    let value: JsonValue;
    try {
      value = JSON.parse(bytes.toString('utf8')) as JsonValue;
    } catch (error) {
      throw invalid(
        `${input} is neither a WAV file (it does not start with "RIFF") nor JSON (${(error as Error).message}); --input takes a WAV file, a JSON file, a JSON value or "-"`,
        input,
      );
    }
    return { kind: 'json', values: Array.isArray(value) ? value : [value] };
  }
  try {
    const value = JSON.parse(input) as JsonValue;
    return { kind: 'json', values: Array.isArray(value) ? value : [value] };
  } catch (error) {
    throw invalid(
      `--input '${input}' is not a file and not JSON (${(error as Error).message}); it takes a WAV file, a JSON file, a JSON value or "-"`,
      input,
    );
  }
}

/** Sends every input, then closes the session's input (end of stream). */
export async function feedInput(
  session: InputSession,
  source: InputSource,
  options: FeedOptions,
): Promise<void> {
  switch (source.kind) {
    case 'json':
      for (const value of source.values) await session.sendInput(RuntimeData.json(value));
      break;
    case 'stdin':
      await feedJsonLines(session, options.stdin);
      break;
    case 'wav':
      await feedWav(session, source.audio, options);
      break;
  }
  await session.close();
}

async function feedJsonLines(session: InputSession, stdin: NodeJS.ReadableStream): Promise<void> {
  let line = 0;
  for await (const text of createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === '') continue;
    let value: JsonValue;
    try {
      value = JSON.parse(text) as JsonValue;
    } catch (error) {
      throw invalid(
        `stdin line ${line} is not JSON (${(error as Error).message})`,
        `stdin:${line}`,
      );
    }
    await session.sendInput(RuntimeData.json(value));
  }
}

/**
 * The file as audio blocks of frameMs, each stamped with its start time. With
 * `realtime`, block k is sent no earlier than k x frameMs after the first, as a
 * microphone would deliver it (a slow pipeline still delays the next block).
 */
async function feedWav(
  session: InputSession,
  audio: WavAudio,
  options: FeedOptions,
): Promise<void> {
  const { samples, sampleRate, channels } = audio;
  const frames = samples.length / channels;
  const block = Math.max(1, Math.round((sampleRate * options.frameMs) / 1000));
  const started = performance.now();
  for (let at = 0; at < frames; at += block) {
    if (options.realtime) {
      const due = started + (at / sampleRate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal: options.signal });
    }
    const end = Math.min(frames, at + block);
    await session.sendInput({
      kind: 'audio',
      samples: samples.slice(at * channels, end * channels),
      sampleRate,
      channels,
      timestampUs: (at / sampleRate) * 1e6,
    });
  }
}

/**
 * Where `run` puts outputs: JSON lines on stdout, and with an output directory,
 * audio as WAV files. A file holds one unbroken run of audio from one node: the
 * next chunk continues it when it starts where the file ends (same rate and
 * channels); a gap in time — between two SileroVAD segments, say — or any other
 * output of that node ends the file, and its JSON line is printed then, naming the
 * file with its duration and, when the audio is timestamped, start and end.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioData, SessionOutput } from '../core/internal.ts';
import { encodeWavSamples, wavHeader } from '../core/wav-codec.ts';
import { outputRecord } from './output-view.ts';

/** Samples are written as they were computed: no conversion, no clipping. */
const FORMAT = 'float32';

interface OpenFile {
  path: string;
  fd: number;
  sampleRate: number;
  channels: number;
  frames: number;
  startUs: number | undefined;
}

export class OutputSink {
  private readonly open = new Map<string, OpenFile>();
  private readonly counts = new Map<string, number>();

  /** `print` gets each record; `outDir` (created if missing) enables WAV files. */
  constructor(
    private readonly print: (record: Record<string, unknown>) => void,
    private readonly outDir?: string,
  ) {
    if (outDir !== undefined) mkdirSync(outDir, { recursive: true });
  }

  write(output: SessionOutput): void {
    const { nodeId, data } = output;
    if (data.kind === 'audio' && this.outDir !== undefined) {
      const file = this.open.get(nodeId);
      if (file && continues(file, data)) append(file, data);
      else {
        if (file) this.finish(nodeId);
        this.open.set(nodeId, this.start(nodeId, data));
      }
      return;
    }
    if (this.open.has(nodeId)) this.finish(nodeId);
    this.print(outputRecord(output));
  }

  /** Ends every open file (the end of the stream, or a failure: what was written stays valid). */
  close(): void {
    for (const nodeId of [...this.open.keys()]) this.finish(nodeId);
  }

  private start(nodeId: string, data: AudioData): OpenFile {
    const n = (this.counts.get(nodeId) ?? 0) + 1;
    this.counts.set(nodeId, n);
    // Node ids may hold ':' (not portable in file names).
    const path = join(
      this.outDir!,
      `${nodeId.replaceAll(':', '_')}-${String(n).padStart(3, '0')}.wav`,
    );
    const file: OpenFile = {
      path,
      fd: openSync(path, 'w'),
      sampleRate: data.sampleRate,
      channels: data.channels,
      frames: 0,
      startUs: data.timestampUs,
    };
    writeSync(file.fd, wavHeader(FORMAT, file.sampleRate, file.channels, 0));
    append(file, data);
    return file;
  }

  private finish(nodeId: string): void {
    const file = this.open.get(nodeId)!;
    this.open.delete(nodeId);
    const header = wavHeader(
      FORMAT,
      file.sampleRate,
      file.channels,
      file.frames * file.channels * 4,
    );
    writeSync(file.fd, header, 0, header.length, 0);
    closeSync(file.fd);
    const duration = file.frames / file.sampleRate;
    const time =
      file.startUs === undefined
        ? {}
        : { start: seconds(file.startUs / 1e6), end: seconds(file.startUs / 1e6 + duration) };
    this.print({
      node: nodeId,
      kind: 'audio',
      file: file.path,
      sampleRate: file.sampleRate,
      channels: file.channels,
      duration: seconds(duration),
      ...time,
    });
  }
}

function continues(file: OpenFile, data: AudioData): boolean {
  if (data.sampleRate !== file.sampleRate || data.channels !== file.channels) return false;
  if (file.startUs === undefined || data.timestampUs === undefined) {
    return file.startUs === data.timestampUs; // both untimed: one stream
  }
  const endUs = file.startUs + (file.frames / file.sampleRate) * 1e6;
  // Within a sample: resamplers round their output timestamps.
  return Math.abs(data.timestampUs - endUs) <= 1e6 / file.sampleRate;
}

function append(file: OpenFile, data: AudioData): void {
  writeSync(file.fd, encodeWavSamples(data.samples, FORMAT));
  file.frames += data.samples.length / data.channels;
}

/** Seconds to the microsecond: enough for any sample rate, short in a JSON line. */
const seconds = (s: number) => Math.round(s * 1e6) / 1e6;

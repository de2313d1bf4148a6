import type { SessionOutput } from '../core/internal.ts';

/**
 * One output as a JSON-lines record. Text, JSON, events and control frames are
 * printed whole; audio, tensors, video and binary are summarized (sizes, not samples).
 */
export function outputRecord({ nodeId, data }: SessionOutput): Record<string, unknown> {
  const time = data.timestampUs === undefined ? {} : { timestampUs: data.timestampUs };
  const head = { node: nodeId, kind: data.kind, ...time };
  switch (data.kind) {
    case 'json':
      return { ...head, value: data.value };
    case 'text':
      return { ...head, text: data.text };
    case 'event':
      return data.payload === undefined
        ? { ...head, name: data.name }
        : { ...head, name: data.name, payload: data.payload };
    case 'control':
      return { ...head, signal: data.signal };
    case 'audio': {
      const frames = data.samples.length / data.channels;
      return {
        ...head,
        sampleRate: data.sampleRate,
        channels: data.channels,
        frames,
        seconds: frames / data.sampleRate,
      };
    }
    case 'binary':
      return {
        ...head,
        bytes: data.bytes.length,
        ...(data.mimeType === undefined ? {} : { mimeType: data.mimeType }),
      };
    case 'tensor':
      return { ...head, dtype: data.dtype, shape: data.shape };
    case 'video':
      return { ...head, width: data.width, height: data.height, format: data.format };
  }
}

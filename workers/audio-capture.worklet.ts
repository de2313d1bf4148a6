/**
 * AudioWorklet processor "remotemedia-capture": copies each render quantum of its
 * (mono) input into an AudioRing that a pipeline worker reads. Nothing else happens
 * on the audio thread: no allocation, no messages per quantum. Without a ring (a
 * page that is not cross-origin isolated) it posts copies of the quanta instead.
 * "stop" from the page closes the stream after the current quantum.
 */
import { AudioRing } from '../web/runtime/ring/audio-ring.ts';

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly ring: AudioRing | undefined;
  private stopped = false;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { ring } = (options.processorOptions ?? {}) as { ring?: SharedArrayBuffer };
    this.ring = ring ? new AudioRing(ring) : undefined;
    this.port.onmessage = (event: MessageEvent<string>) => {
      if (event.data === 'stop') this.stopped = true;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.stopped) {
      this.ring?.close();
      this.port.postMessage({ type: 'ended', written: this.ring?.written });
      return false;
    }
    const input = inputs[0]?.[0];
    if (input) {
      if (this.ring) this.ring.write(input);
      else this.port.postMessage({ type: 'block', samples: input.slice() });
    }
    return true;
  }
}

registerProcessor('remotemedia-capture', CaptureProcessor);

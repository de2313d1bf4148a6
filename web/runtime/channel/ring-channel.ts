/** A channel over a FrameRing: frames are encoded into and decoded from shared memory. */
import { decodeFrame, encodeFrame, type RuntimeData } from '../../core/internal.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  type OverrunPolicy,
  RING_CLOSED,
} from '../ring/frame-ring.ts';
import {
  type ChannelEndpoint,
  type ChannelReader,
  type ChannelWriter,
  checkSequence,
  nextSequence,
} from './channel.ts';

export function createRingChannel(
  bytes: number,
  policy: OverrunPolicy,
): { writer: ChannelEndpoint; reader: ChannelEndpoint } {
  const buffer = createFrameRingBuffer(bytes);
  return { writer: { kind: 'ring', buffer, policy }, reader: { kind: 'ring', buffer, policy } };
}

export class RingChannelWriter implements ChannelWriter {
  private readonly ring: FrameRingWriter;
  private sequence = 0;

  constructor(buffer: SharedArrayBuffer, policy: OverrunPolicy) {
    this.ring = new FrameRingWriter(buffer, policy);
  }

  write(data: RuntimeData): Promise<void> | undefined {
    const frame = encodeFrame({ sequence: this.sequence, data });
    this.sequence = nextSequence(this.sequence);
    try {
      if (this.ring.tryWrite(frame)) return undefined;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.ring.writeAsync(frame);
  }

  end(): void {
    this.ring.close();
  }

  cancel(): void {
    this.ring.cancel();
  }
}

export class RingChannelReader implements ChannelReader {
  private readonly ring: FrameRingReader;
  private sequence = 0;

  /** Under "block" nothing may be missing, so every sequence number is checked. */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly policy: OverrunPolicy,
  ) {
    this.ring = new FrameRingReader(buffer);
  }

  async read(): Promise<RuntimeData | undefined> {
    let frame = this.ring.tryRead();
    if (frame === undefined) frame = await this.ring.readAsync();
    if (frame === RING_CLOSED) return undefined;
    const { sequence, data } = decodeFrame(frame);
    if (this.policy === 'block') this.sequence = checkSequence(sequence, this.sequence);
    return data;
  }

  cancel(): void {
    this.ring.cancel();
  }
}

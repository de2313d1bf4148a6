/**
 * The runtime benchmark's floor: echoes frames from one FrameRing into another
 * with no session in between, waiting as the runtime's channels do (tryReadFrame,
 * then Atomics.waitAsync). Page -> here -> page is the least a round trip through
 * a worker can cost; the runtime's round trip minus this is its session machinery.
 */
import { prepareFrame } from '../../web/core/internal.ts';
import {
  FrameRingReader,
  FrameRingWriter,
  RING_CLOSED,
} from '../../web/runtime/ring/frame-ring.ts';

self.onmessage = async (
  event: MessageEvent<{ input: SharedArrayBuffer; output: SharedArrayBuffer; spin?: number }>,
) => {
  const reader = new FrameRingReader(event.data.input, event.data.spin);
  const writer = new FrameRingWriter(event.data.output, 'block');
  for (;;) {
    let frame = reader.tryReadFrame();
    if (frame === undefined) frame = await reader.readFrameAsync();
    if (frame === RING_CLOSED) break;
    const prepared = prepareFrame(frame);
    if (!writer.tryWriteFrame(prepared)) await writer.writeFrameAsync(prepared);
  }
  writer.close();
};

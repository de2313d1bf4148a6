/**
 * The runtime benchmark's floor: echoes items from one ring channel into another
 * with no session in between, waiting as the runtime's pipeline worker does (its
 * ring channel readers in the wake loop, asleep on the doorbell while items
 * stream: web/runtime/channel/wake-loop.ts). Page -> here -> page is the least a
 * round trip through a worker can cost on this path; the runtime's round trip
 * minus this is its session machinery.
 */
import { type ChannelEndpoint, openReader, openWriter } from '../../web/runtime/channel/channel.ts';
import { enableBlockingWaits } from '../../web/runtime/channel/wake-loop.ts';

enableBlockingWaits();

self.onmessage = async (
  event: MessageEvent<{ input: ChannelEndpoint; output: ChannelEndpoint }>,
) => {
  // As an island reads its inputs (island.ts): into slab slices.
  const reader = openReader(event.data.input, { payloads: 'slab' });
  const writer = openWriter(event.data.output);
  for (;;) {
    const item = await reader.read();
    if (item === undefined) break;
    const waiting = writer.write(item);
    if (waiting) await waiting;
  }
  writer.end();
};

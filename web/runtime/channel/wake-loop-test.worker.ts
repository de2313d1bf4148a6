/**
 * A worker for wake-loop.browser.test.ts: enables blocking waits as the pipeline
 * worker does and echoes every item of each input channel to its output channel,
 * so the page sees what the wake loop delivered. Messages: {inputs, outputs} opens
 * an echo per pair and answers 'open'; 'counts' answers the loop's counters (a
 * control message served while the loop streams); each echo answers 'ended' or
 * {failed: kind} when its input ends or fails.
 */
import { RemoteMediaError } from '../../core/errors.ts';
import { type ChannelEndpoint, openReader, openWriter } from './channel.ts';
import { enableBlockingWaits, wakeLoopCounts } from './wake-loop.ts';

enableBlockingWaits();

self.onmessage = (
  event: MessageEvent<'counts' | { inputs: ChannelEndpoint[]; outputs: ChannelEndpoint[] }>,
) => {
  const job = event.data;
  if (job === 'counts') {
    self.postMessage({ counts: { ...wakeLoopCounts() } });
    return;
  }
  job.inputs.forEach((input, i) => {
    const reader = openReader(input);
    const writer = openWriter(job.outputs[i]!);
    void (async () => {
      try {
        for (;;) {
          const item = await reader.read();
          if (item === undefined) break;
          const waiting = writer.write(item);
          if (waiting) await waiting;
        }
        writer.end();
        self.postMessage({ ended: i });
      } catch (error) {
        self.postMessage({
          failed: i,
          kind: error instanceof RemoteMediaError ? error.kind : String(error),
        });
      }
    })();
  });
  self.postMessage('open');
};

/**
 * The studio's `Speaker` node (a page node: the audio graph lives on the main
 * thread): plays the audio it receives through an AudioPlayback ring and worklet.
 * On interrupt (barge-in) it drops what it has queued at once: AudioPlayback's
 * interrupt() empties the ring at the worklet's next render quantum (the same
 * worklet plays the audio written after it; nothing is torn down or rebuilt). It tells the studio when each reply's first sample will
 * be heard (for the transcript's latency figure and the voice-loop benchmark).
 */
import { z } from 'zod';
import { AudioPlayback, type AudioData, defineNode } from '../../index.ts';

/** Ahead of the speaker: a long reply is synthesized faster than it plays. */
const BUFFER_SECONDS = 10;

export interface SpeakerEvents {
  /** `audibleAtMs` (performance.now() clock): when the first sample of a reply plays. */
  onReplyStart?(audibleAtMs: number): void;
  onInterrupt?(droppedSamples: number): void;
}

export interface SpeakerStats {
  played: number;
  interrupts: number;
  dropped: number;
}

/** One speaker for the page; `events` are the current run's. */
export function createSpeaker() {
  let context: AudioContext | undefined;
  let playback: AudioPlayback | undefined;
  let events: SpeakerEvents = {};
  /** A reply starts when audio arrives with nothing queued. */
  let idle = true;
  /** Counts interrupts: a write that waited for room across one is stale. */
  let generation = 0;
  const stats: SpeakerStats = { played: 0, interrupts: 0, dropped: 0 };

  const open = async (audio: AudioData) => {
    if (!context || context.sampleRate !== audio.sampleRate || context.state === 'closed') {
      void context?.close();
      context = new AudioContext({ sampleRate: audio.sampleRate, latencyHint: 'interactive' });
    }
    playback = await AudioPlayback.open({
      sampleRate: audio.sampleRate,
      context,
      bufferSeconds: BUFFER_SECONDS,
    });
    return playback;
  };

  const definition = defineNode({
    type: 'Speaker',
    description: 'Plays audio on the page (AudioWorklet); drops its queue on interrupt.',
    params: z.strictObject({}),
    accepts: ['audio'],
    create: () => ({
      async process(input) {
        if (input.kind !== 'audio') return;
        const begun = generation;
        const out = playback ?? (await open(input));
        if (idle || out.queued === 0) {
          const ahead = out.queued / out.sampleRate;
          const latency = (out.context.outputLatency || out.context.baseLatency || 0) + ahead;
          events.onReplyStart?.(performance.now() + latency * 1000);
          idle = false;
        }
        // Wait for room rather than drop: the ring holds BUFFER_SECONDS.
        while (
          generation === begun &&
          out.queued + input.samples.length > out.sampleRate * BUFFER_SECONDS
        ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (generation !== begun) return; // interrupted while waiting
        stats.played += out.write(input);
      },
      interrupt() {
        generation++;
        idle = true;
        stats.interrupts++;
        const out = playback;
        if (!out) return;
        const dropped = out.queued;
        stats.dropped += dropped;
        out.interrupt(); // the worklet drops its queue at its next render quantum
        events.onInterrupt?.(dropped);
      },
      flush() {
        idle = true;
      },
    }),
  });

  return {
    definition,
    stats,
    /** Starts a run: fresh figures and the run's listeners. */
    reset(listeners: SpeakerEvents): void {
      events = listeners;
      stats.played = stats.interrupts = stats.dropped = 0;
      idle = true;
    },
    /** Samples queued and not played yet. */
    queued: () => playback?.queued ?? 0,
  };
}

export type Speaker = ReturnType<typeof createSpeaker>;

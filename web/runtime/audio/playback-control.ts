/**
 * The control block shared by AudioPlayback (the page) and its worklet: an Int32Array
 * on a SharedArrayBuffer, for barge-in. The page asks for a drop by counting up
 * REQUESTED; the worklet, at the start of its next render quantum, empties the ring
 * and records the drop — so the speaker is silent within one quantum of the ask,
 * whatever the page's thread is doing. Frames are the AudioContext's `currentFrame`
 * (int32: good for 12 h at 48 kHz), the audio clock both sides of a test can read.
 *
 * Threads: REQUESTED is written by the page only; the rest by the worklet only.
 * Nothing here allocates or blocks (this module also loads in the worklet scope).
 */
export const REQUESTED = 0;
const DONE = 1;
const DROPPED = 2;
const FRAME_AT_DROP = 3;
const CLOCK_AT_DROP = 4;
/** The frame after the last one that played a queued sample (0: none yet). */
export const PLAYED_UNTIL = 5;
const FIRST_FRAME_AT_DROP = 6;
const FIRST_CLOCK_AT_DROP = 7;
const SLOTS = 8;

export function createPlaybackControl(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(SLOTS * 4);
  const control = new Int32Array(buffer);
  control[FRAME_AT_DROP] = -1;
  control[CLOCK_AT_DROP] = -1;
  control[FIRST_FRAME_AT_DROP] = -1;
  control[FIRST_CLOCK_AT_DROP] = -1;
  return buffer;
}

/** Page: asks the worklet to drop what is queued, at its next quantum. */
export function requestDrop(control: Int32Array): void {
  Atomics.add(control, REQUESTED, 1);
}

/** Worklet: whether a drop was asked for and not done yet. */
export function dropRequested(control: Int32Array): boolean {
  return Atomics.load(control, REQUESTED) !== Atomics.load(control, DONE);
}

/** Worklet: the drop is done: `dropped` samples, at audio frame `frame`, the clock ring at `clock`. */
export function noteDrop(control: Int32Array, dropped: number, frame: number, clock: number): void {
  Atomics.add(control, DROPPED, dropped);
  Atomics.store(control, FRAME_AT_DROP, frame);
  Atomics.store(control, CLOCK_AT_DROP, clock);
  if (Atomics.load(control, DONE) === 0) {
    Atomics.store(control, FIRST_FRAME_AT_DROP, frame);
    Atomics.store(control, FIRST_CLOCK_AT_DROP, clock);
  }
  Atomics.store(control, DONE, Atomics.load(control, REQUESTED));
}

export interface PlaybackDrops {
  /** Drops asked for, and done by the worklet. */
  requested: number;
  done: number;
  /** Queued samples the drops threw away. */
  droppedSamples: number;
  /** `currentFrame` of the quantum that did the last drop; -1 before any. */
  frameAtDrop: number;
  /** The clock ring's written count at that quantum (PlaybackOptions.clock); -1 without one. */
  clockAtDrop: number;
  /** The same two for the first drop. */
  firstFrameAtDrop: number;
  firstClockAtDrop: number;
  /** The frame after the last one that played a queued sample; 0 before any. */
  playedUntil: number;
}

/** Any thread: the control block's figures. */
export function readDrops(control: Int32Array): PlaybackDrops {
  return {
    requested: Atomics.load(control, REQUESTED),
    done: Atomics.load(control, DONE),
    droppedSamples: Atomics.load(control, DROPPED),
    frameAtDrop: Atomics.load(control, FRAME_AT_DROP),
    clockAtDrop: Atomics.load(control, CLOCK_AT_DROP),
    firstFrameAtDrop: Atomics.load(control, FIRST_FRAME_AT_DROP),
    firstClockAtDrop: Atomics.load(control, FIRST_CLOCK_AT_DROP),
    playedUntil: Atomics.load(control, PLAYED_UNTIL),
  };
}

/**
 * The audio worklets' process() allocates nothing per render quantum: capture in
 * both modes (ring, and the pooled-buffer fallback without SharedArrayBuffer) and
 * playback (stereo from its ring), measured
 * in real Chromium with V8's sampling heap profiler over CDP: every allocation
 * made under process() (including what it calls and what the GC already freed)
 * is sampled, so a path that allocates per quantum shows up as bytes. The old
 * fallback (`input.slice()` posted per quantum) is run the same way as the
 * control: the measurement must see it, or the check proves nothing.
 *
 * The real processor classes run on the page, not in an AudioWorkletGlobalScope
 * (CDP does not reach the audio thread's isolate): its base class gets a real
 * MessagePort, and a receiver on the other end returns the pool's buffers as
 * audio-source.ts does. The last test runs the real worklet in an AudioContext
 * in fallback mode and checks the audio arrives sample-exact.
 */
import { cdp } from 'vitest/browser';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AudioData, RuntimeData } from '../../core/internal.ts';
import { AudioRing, createAudioRingBuffer } from '../ring/audio-ring.ts';
import { openAudioFile } from './audio-source.ts';
import { createPlaybackControl } from './playback-control.ts';

const QUANTUM = 128;
/** Quanta per synchronous burst: the fallback's whole pool (8 buffers of 8 quanta). */
const BURST = 64;
const WARM_UP_BURSTS = 100;
const MEASURED_BURSTS = 480; // 30,720 quanta

interface Processor {
  process(inputs: Float32Array[][], outputs?: Float32Array[][]): boolean;
}
type ProcessorClass = new (options: AudioWorkletNodeOptions) => Processor;

/** The port the next processor's base class takes (the AudioWorkletNode's other end). */
let nextPort: MessagePort | undefined;
const registered = new Map<string, ProcessorClass>();

/** Just enough AudioWorkletGlobalScope for the worklet module to load on the page. */
function installWorkletScope(): void {
  const scope = globalThis as unknown as Record<string, unknown>;
  scope.AudioWorkletProcessor = class {
    readonly port: MessagePort;
    constructor() {
      this.port = nextPort!;
      nextPort = undefined;
    }
  };
  // The render clock the playback processor stamps its progress with.
  scope.currentFrame = 0;
  scope.registerProcessor = (name: string, processor: ProcessorClass) => {
    registered.set(name, processor);
  };
}

/** The fallback as it was before the pool: a fresh copy posted every quantum. */
function oldFallbackClass(): ProcessorClass {
  const Base = (globalThis as unknown as { AudioWorkletProcessor: new () => { port: MessagePort } })
    .AudioWorkletProcessor;
  return class OldCapture extends Base {
    process(inputs: Float32Array[][]): boolean {
      const input = inputs[0]?.[0];
      if (input) this.port.postMessage({ type: 'block', samples: input.slice() });
      return true;
    }
  };
}

/**
 * Input patterns: quantum q carries pattern q % 16, sample i of it the value
 * ((q % 16) * 128 + i) / 2048 (exact in float32), so the stream can be checked.
 */
const PATTERNS = Array.from({ length: 16 }, (_, k) =>
  Float32Array.from({ length: QUANTUM }, (_, i) => (k * QUANTUM + i) / 2048),
);

/** How many samples of `samples` (quanta `fromQuantum`…) differ from the patterns. */
function wrongSamples(samples: Float32Array, fromQuantum: number): number {
  let wrong = 0;
  for (let at = 0; at < samples.length; at++) {
    const q = fromQuantum + Math.floor(at / QUANTUM);
    if (samples[at] !== PATTERNS[q % 16]![at % QUANTUM]) wrong++;
  }
  return wrong;
}

/**
 * The measured loop, synchronous like the audio thread's render loop: one
 * pattern copied in per quantum (set(), which allocates in no tier) and
 * process() called. Every allocation with this frame on the stack is counted.
 */
function renderQuanta(processor: Processor, inputs: Float32Array[][], from: number): void {
  const channel = inputs[0]![0]!;
  for (let q = from; q < from + BURST; q++) {
    channel.set(PATTERNS[q & 15]!);
    processor.process(inputs);
  }
}

/** The playback loop: process() fills `outputs` from the ring, one quantum a call. */
function playQuanta(processor: Processor, outputs: Float32Array[][]): void {
  for (let q = 0; q < BURST; q++) processor.process(NO_INPUTS, outputs);
}
const NO_INPUTS: Float32Array[][] = [];

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

/**
 * Every sampled allocation with renderQuanta (the test's loop) or process (of
 * the processor, should it not be inlined) on the stack, as "a > b: bytes", so
 * that a failure says where. V8 folds inlined functions into their caller's
 * frame, which is why the loop's own frame is the anchor.
 */
function allocationsInLoop(node: ProfileNode, stack?: string[]): string[] {
  const name = node.callFrame.functionName || '(anonymous)';
  const anchor = name === 'renderQuanta' || name === 'playQuanta' || name === 'process';
  const here = stack ? [...stack, name] : anchor ? [name] : undefined;
  const found: string[] = [];
  if (here && node.selfSize > 0) found.push(`${here.join(' > ')}: ${node.selfSize} bytes`);
  for (const child of node.children) found.push(...allocationsInLoop(child, here));
  return found;
}

/**
 * Sampled bytes per quantum under the loop, with the stacks as the failure message.
 * Not exactly zero: V8 does its own work at interrupt checks inside any long
 * loop (finishing a background compile, say) and the sampler charges it to the
 * running frame. Measured here: 5–7 KB in all, the same for 20,000 quanta as for
 * 80,000, so a one-off and not per quantum. Anything allocated per quantum or per
 * batch costs at least one 12-byte object (V8's smallest, a HeapNumber) per 8
 * quanta, 1.5 bytes a quantum, so the bound of 1 byte a quantum catches it.
 */
function expectNothingPerQuantum(profile: ProfileNode, quanta: number): void {
  const lines = allocationsInLoop(profile);
  expect(bytesOf(lines) / quanta, lines.join('\n')).toBeLessThan(1);
}

function bytesOf(lines: string[]): number {
  return lines.reduce((n, line) => n + Number(/: (\d+) bytes$/.exec(line)![1]), 0);
}

interface Cdp {
  send(method: string, params?: object): Promise<Record<string, unknown>>;
}

/** Runs `work` under V8's sampling heap profiler; returns the profile's root. */
async function sampled(work: () => Promise<void>): Promise<ProfileNode> {
  const session = cdp() as unknown as Cdp;
  await session.send('HeapProfiler.enable');
  await session.send('HeapProfiler.collectGarbage');
  await session.send('HeapProfiler.startSampling', {
    // Mean bytes between samples: small, so that even one small object a quantum shows.
    samplingInterval: 32,
    // Count what the young-generation GC freed too: that is the garbage per quantum.
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  let failure: unknown;
  try {
    await work();
  } catch (error) {
    failure = error;
  }
  const { profile } = (await session.send('HeapProfiler.stopSampling')) as {
    profile: { head: ProfileNode };
  };
  if (failure) throw failure;
  return profile.head;
}

/**
 * The receiving end of the fallback, as audio-source.ts is: copies each batch out
 * and returns the buffer. `settled()` resolves once the processor's port has had
 * back every buffer posted so far.
 */
function fallbackReceiver(nodeSide: MessagePort, processorSide: MessagePort) {
  const batches: Float32Array[] = [];
  let received = 0;
  let returned = 0;
  let dropped = 0;
  let waiter: (() => void) | undefined;
  nodeSide.onmessage = (event: MessageEvent) => {
    const data = event.data as {
      type: string;
      samples: Float32Array;
      frames: number;
      dropped: number;
    };
    if (data.type !== 'blocks') return;
    batches.push(data.samples.slice(0, data.frames));
    received += data.frames;
    dropped = data.dropped;
    nodeSide.postMessage({ type: 'return', buffer: data.samples.buffer }, [data.samples.buffer]);
  };
  // A second listener on the processor's side (its own handler stays in place).
  processorSide.addEventListener('message', (event: MessageEvent) => {
    if ((event.data as { type?: string }).type === 'return') returned++;
    waiter?.();
  });
  return {
    async settled(posted: number): Promise<void> {
      while (returned * QUANTUM * 8 < posted) {
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
    samples(): Float32Array {
      const all = new Float32Array(received);
      let at = 0;
      for (const b of batches) {
        all.set(b, at);
        at += b.length;
      }
      return all;
    },
    stats: () => ({ received, dropped }),
  };
}

let CaptureProcessor: ProcessorClass;
let PlaybackProcessor: ProcessorClass;

beforeAll(async () => {
  installWorkletScope();
  await import('../../../workers/audio-capture.worklet.ts');
  await import('../../../workers/audio-playback.worklet.ts');
  CaptureProcessor = registered.get('remotemedia-capture')!;
  PlaybackProcessor = registered.get('remotemedia-playback')!;
  expect(CaptureProcessor).toBeTypeOf('function');
  expect(PlaybackProcessor).toBeTypeOf('function');
});

describe('the playback worklet process() loop', () => {
  it('allocates nothing per quantum while it plays stereo from its ring', async () => {
    const buffer = createAudioRingBuffer(1 << 15);
    const writer = new AudioRing(buffer);
    nextPort = new MessageChannel().port1;
    const processor = new PlaybackProcessor({
      processorOptions: { ring: buffer, channels: 2, control: createPlaybackControl() },
    });
    const outputs = [[new Float32Array(QUANTUM), new Float32Array(QUANTUM)]];
    // Interleaved stereo: left the pattern, right its negation.
    const burst = new Float32Array(BURST * QUANTUM * 2);
    let quantum = 0;
    let wrong = 0;
    const run = async (bursts: number) => {
      for (let b = 0; b < bursts; b++) {
        for (let q = 0; q < BURST; q++) {
          const pattern = PATTERNS[(quantum + q) % 16]!;
          for (let i = 0; i < QUANTUM; i++) {
            burst[(q * QUANTUM + i) * 2] = pattern[i]!;
            burst[(q * QUANTUM + i) * 2 + 1] = -pattern[i]!;
          }
        }
        expect(writer.write(burst)).toBe(burst.length);
        // Only the last quantum of the burst stays in the outputs: check that one.
        playQuanta(processor, outputs);
        const last = PATTERNS[(quantum + BURST - 1) % 16]!;
        for (let i = 0; i < QUANTUM; i++) {
          if (outputs[0]![0]![i] !== last[i] || outputs[0]![1]![i] !== -last[i]!) wrong++;
        }
        quantum += BURST;
        await Promise.resolve();
      }
    };
    await run(WARM_UP_BURSTS);
    const profile = await sampled(() => run(MEASURED_BURSTS));
    expect(wrong).toBe(0);
    expect(writer.underrunSamples).toBe(0);
    expectNothingPerQuantum(profile, MEASURED_BURSTS * BURST);
  });
});

describe('the capture worklet process() loop', () => {
  it('allocates nothing per quantum when it writes a ring', async () => {
    const buffer = createAudioRingBuffer(1 << 14);
    const reader = new AudioRing(buffer);
    const out = new Float32Array(BURST * QUANTUM);
    nextPort = new MessageChannel().port1;
    const processor = new CaptureProcessor({ processorOptions: { ring: buffer } });
    const inputs = [[new Float32Array(QUANTUM)]];
    let quantum = 0;
    let wrong = 0;
    const run = async (bursts: number) => {
      for (let b = 0; b < bursts; b++) {
        renderQuanta(processor, inputs, quantum);
        // The reader drains between bursts, outside the counted frame.
        expect(reader.read(out)).toBe(out.length);
        wrong += wrongSamples(out, quantum);
        quantum += BURST;
        await Promise.resolve();
      }
    };
    await run(WARM_UP_BURSTS);
    const profile = await sampled(() => run(MEASURED_BURSTS));
    expect(wrong).toBe(0);
    expect(reader.droppedSamples).toBe(0);
    expectNothingPerQuantum(profile, MEASURED_BURSTS * BURST);
  });

  it('allocates nothing per quantum in the fallback: pooled buffers, returned and reused', async () => {
    const channel = new MessageChannel();
    nextPort = channel.port1;
    const processor = new CaptureProcessor({ processorOptions: {} });
    const receiver = fallbackReceiver(channel.port2, channel.port1);
    const inputs = [[new Float32Array(QUANTUM)]];
    let quantum = 0;
    // A burst takes the whole pool; the event loop then turns until every buffer is back.
    const run = async (bursts: number) => {
      for (let b = 0; b < bursts; b++) {
        renderQuanta(processor, inputs, quantum);
        quantum += BURST;
        await receiver.settled(quantum * QUANTUM);
      }
    };
    await run(WARM_UP_BURSTS);
    const profile = await sampled(() => run(MEASURED_BURSTS));
    const { received, dropped } = receiver.stats();
    expect(received).toBe(quantum * QUANTUM);
    expect(dropped).toBe(0);
    expect(wrongSamples(receiver.samples(), 0)).toBe(0);
    expectNothingPerQuantum(profile, MEASURED_BURSTS * BURST);
  });

  it('counts a drop rather than allocating when every buffer is away', async () => {
    const channel = new MessageChannel();
    nextPort = channel.port1;
    const processor = new CaptureProcessor({ processorOptions: {} });
    let last: { frames: number; dropped: number } | undefined;
    let posts = 0;
    // This receiver never gives the buffers back.
    channel.port2.onmessage = (event: MessageEvent) => {
      const data = event.data as { type: string; frames: number; dropped: number };
      if (data.type === 'blocks') {
        posts++;
        last = { frames: data.frames, dropped: data.dropped };
      }
    };
    const inputs = [[new Float32Array(QUANTUM)]];
    const profile = await sampled(async () => {
      for (let b = 0; b < MEASURED_BURSTS; b++) {
        renderQuanta(processor, inputs, b * BURST);
        await Promise.resolve();
      }
    });
    expectNothingPerQuantum(profile, MEASURED_BURSTS * BURST);
    // Stop: once the processor's port has the message, its next quantum ends the stream.
    const stopSeen = new Promise((resolve) =>
      channel.port1.addEventListener('message', resolve, { once: true }),
    );
    const ended = new Promise<{ written: number; dropped: number }>((resolve) => {
      channel.port2.addEventListener('message', (event: MessageEvent) => {
        const data = event.data as { type: string; written: number; dropped: number };
        if (data.type === 'ended') resolve({ written: data.written, dropped: data.dropped });
      });
    });
    channel.port2.postMessage('stop');
    await stopSeen;
    expect(processor.process(inputs)).toBe(false);
    // Messages on one port arrive in order: every batch came before "ended".
    expect(await ended).toEqual({
      written: BURST * QUANTUM,
      dropped: (MEASURED_BURSTS - 1) * BURST * QUANTUM,
    });
    expect(posts).toBe(8);
    expect(last).toEqual({ frames: 8 * QUANTUM, dropped: 0 });
  });

  it('sees the old fallback allocate on every quantum (the check can fail)', async () => {
    const channel = new MessageChannel();
    let messages = 0;
    channel.port2.onmessage = () => messages++;
    nextPort = channel.port1;
    const Old = oldFallbackClass();
    const processor = new Old({});
    const inputs = [[new Float32Array(QUANTUM)]];
    let quantum = 0;
    const run = async (bursts: number) => {
      for (let b = 0; b < bursts; b++) {
        renderQuanta(processor, inputs, quantum);
        quantum += BURST;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    };
    await run(WARM_UP_BURSTS);
    const profile = await sampled(() => run(MEASURED_BURSTS));
    const perQuantum = bytesOf(allocationsInLoop(profile)) / (MEASURED_BURSTS * BURST);
    // A Float32Array, its ArrayBuffer object and the message object: far over 64 bytes.
    expect(perQuantum).toBeGreaterThan(64);
    expect(messages).toBeGreaterThan(0);
  });
});

describe('the capture worklet in an AudioContext, without a ring', () => {
  it('delivers a file sample-exact through the pooled buffers', async () => {
    const rate = 16_000;
    const samples = new Float32Array(rate / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin(i / 7) + 0.01;
    const file: AudioData = RuntimeData.audio(samples, rate, 1);
    const source = await openAudioFile(file, { sampleRate: rate, useRing: false });
    expect(source.ring).toBeUndefined();
    const blocks: Float32Array[] = [];
    for await (const block of source.blocks()) blocks.push(block.samples);
    await source.ended;
    const received = new Float32Array(blocks.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of blocks) {
      received.set(b, at);
      at += b.length;
    }
    const { written, dropped } = source.stats();
    expect(dropped).toBe(0);
    expect(received.length).toBe(written);
    const offset = received.findIndex((v) => Math.abs(v) > 1e-3);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(received.subarray(offset, offset + samples.length)).toEqual(samples);
  });
});

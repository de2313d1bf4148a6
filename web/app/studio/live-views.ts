/**
 * The studio's live views, drawn on canvases as outputs arrive: the waveform, the
 * VAD probability with its segments on the same time axis, and the log-mel image.
 * Each keeps the last WINDOW_SECONDS; drawing is batched to one frame per repaint.
 * Under each canvas a time axis (seconds on the input's clock) is HTML, not pixels,
 * so a canvas holds only data (the tests count its drawn pixels).
 */
import type { AudioData, TensorData } from '../../index.ts';

export const WINDOW_SECONDS = 12;
const RATE = 16000;

export interface Segment {
  startS: number;
  endS?: number;
  audio?: AudioData;
}

export class LiveViews {
  private samples = new Float32Array(WINDOW_SECONDS * RATE);
  private written = 0;
  private readonly probabilities: { t: number; p: number }[] = [];
  readonly segments: Segment[] = [];
  private mel: { columns: Float32Array[]; bands: number } = { columns: [], bands: 80 };
  private scheduled = false;
  private readonly axes: HTMLElement[];

  constructor(
    private readonly waveform: HTMLCanvasElement,
    private readonly vad: HTMLCanvasElement,
    private readonly logMel: HTMLCanvasElement,
  ) {
    this.axes = [waveform, vad, logMel].map((canvas) => {
      const axis = document.createElement('div');
      axis.className = 'time-axis';
      axis.dataset.for = canvas.id;
      axis.setAttribute('aria-hidden', 'true');
      canvas.after(axis);
      return axis;
    });
    this.drawAxes();
  }

  reset(): void {
    this.samples.fill(0);
    this.written = 0;
    this.probabilities.length = 0;
    this.segments.length = 0;
    this.mel = { columns: [], bands: 80 };
    this.repaint();
  }

  /** Seconds of audio seen, the right edge of every timeline. */
  get nowS(): number {
    return this.written / RATE;
  }

  addAudio(audio: AudioData): void {
    const mono = audio.channels === 1 ? audio.samples : firstChannel(audio);
    if (this.written + mono.length > this.samples.length) {
      const grown = new Float32Array(Math.max(this.samples.length * 2, this.written + mono.length));
      grown.set(this.samples.subarray(0, this.written));
      this.samples = grown;
    }
    this.samples.set(mono, this.written);
    this.written += mono.length;
    this.repaint();
  }

  addProbability(timeS: number, probability: number): void {
    this.probabilities.push({ t: timeS, p: probability });
    this.repaint();
  }

  speechStart(timeS: number): void {
    this.segments.push({ startS: timeS });
    this.repaint();
  }

  speechEnd(timeS: number, audio: AudioData | undefined): void {
    const open = this.segments.findLast((s) => s.endS === undefined);
    if (open) {
      open.endS = timeS;
      open.audio = audio;
    } else
      this.segments.push({
        startS: timeS - (audio ? audio.samples.length / RATE : 0),
        endS: timeS,
        audio,
      });
    this.repaint();
  }

  addLogMel(tensor: TensorData): void {
    const [bands, frames] = tensor.shape as [number, number];
    const data = tensor.data as Float32Array;
    this.mel.bands = bands;
    for (let t = 0; t < frames; t++) {
      const column = new Float32Array(bands);
      for (let m = 0; m < bands; m++) column[m] = data[m * frames + t]!;
      this.mel.columns.push(column);
    }
    this.repaint();
  }

  private repaint(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.drawWaveform();
      this.drawVad();
      this.drawLogMel();
      this.drawAxes();
    });
  }

  /** Ticks every 2 s across each view's window; the log-mel image starts at its first frame. */
  private drawAxes(): void {
    const { from } = this.window();
    const melFrom = Math.max(0, this.mel.columns.length / 100 - WINDOW_SECONDS);
    [from, from, melFrom].forEach((start, i) => {
      const axis = this.axes[i]!;
      const ticks: HTMLElement[] = [];
      for (let t = Math.ceil(start / 2) * 2; t <= start + WINDOW_SECONDS; t += 2) {
        const tick = document.createElement('span');
        tick.style.left = `${((t - start) / WINDOW_SECONDS) * 100}%`;
        tick.textContent = `${t} s`;
        ticks.push(tick);
      }
      axis.replaceChildren(...ticks);
    });
  }

  /** The visible window: the last WINDOW_SECONDS, or from 0 until then. */
  private window(): { from: number; to: number } {
    const to = Math.max(WINDOW_SECONDS, this.nowS);
    return { from: to - WINDOW_SECONDS, to };
  }

  private drawWaveform(): void {
    const { ctx, width, height } = prepare(this.waveform);
    const { from } = this.window();
    ctx.strokeStyle = '#2f6fde';
    ctx.beginPath();
    const perColumn = (WINDOW_SECONDS * RATE) / width;
    for (let x = 0; x < width; x++) {
      const start = Math.floor(from * RATE + x * perColumn);
      const end = Math.min(this.written, Math.floor(start + perColumn));
      let lo = 0;
      let hi = 0;
      for (let i = Math.max(0, start); i < end; i++) {
        const s = this.samples[i]!;
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      ctx.moveTo(x + 0.5, height / 2 - hi * (height / 2));
      ctx.lineTo(x + 0.5, height / 2 - lo * (height / 2) + 1);
    }
    ctx.stroke();
  }

  private drawVad(): void {
    const { ctx, width, height } = prepare(this.vad);
    const { from } = this.window();
    const x = (t: number) => ((t - from) / WINDOW_SECONDS) * width;
    ctx.fillStyle = 'rgba(46, 160, 67, 0.25)';
    for (const segment of this.segments) {
      const end = segment.endS ?? this.nowS;
      ctx.fillRect(x(segment.startS), 0, Math.max(1, x(end) - x(segment.startS)), height);
    }
    ctx.strokeStyle = '#1a7f37';
    ctx.beginPath();
    let first = true;
    for (const { t, p } of this.probabilities) {
      if (t < from) continue;
      const y = height - p * (height - 2) - 1;
      if (first) ctx.moveTo(x(t), y);
      else ctx.lineTo(x(t), y);
      first = false;
    }
    ctx.stroke();
  }

  private drawLogMel(): void {
    const { ctx, width, height } = prepare(this.logMel);
    const columns = this.mel.columns;
    if (columns.length === 0) return;
    // One log-mel frame is 10 ms: the window holds WINDOW_SECONDS * 100 of them.
    const visible = columns.slice(-WINDOW_SECONDS * 100);
    const image = ctx.createImageData(visible.length, this.mel.bands);
    visible.forEach((column, t) => {
      for (let m = 0; m < this.mel.bands; m++) {
        // Whisper's scaling puts values in about [-1, 1.5].
        const v = Math.min(1, Math.max(0, (column[m]! + 1) / 2));
        const at = ((this.mel.bands - 1 - m) * visible.length + t) * 4;
        const [r, g, b] = heat(v);
        image.data[at] = r;
        image.data[at + 1] = g;
        image.data[at + 2] = b;
        image.data[at + 3] = 255;
      }
    });
    const bitmap = document.createElement('canvas');
    bitmap.width = image.width;
    bitmap.height = image.height;
    bitmap.getContext('2d')!.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, 0, 0, (visible.length / (WINDOW_SECONDS * 100)) * width, height);
  }
}

function prepare(canvas: HTMLCanvasElement) {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#f6f8fa';
  ctx.fillRect(0, 0, width, height);
  ctx.lineWidth = 1;
  return { ctx, width, height };
}

function firstChannel(audio: AudioData): Float32Array {
  const out = new Float32Array(audio.samples.length / audio.channels);
  for (let i = 0; i < out.length; i++) out[i] = audio.samples[i * audio.channels]!;
  return out;
}

/** A dark-blue → yellow ramp. */
function heat(v: number): [number, number, number] {
  return [
    Math.round(255 * Math.min(1, v * 1.6)),
    Math.round(255 * v * v),
    Math.round(120 * (1 - v) + 40),
  ];
}

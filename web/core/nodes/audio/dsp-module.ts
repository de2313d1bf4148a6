/**
 * Loads the AssemblyScript DSP kernels (wasm-nodes/dsp.ts). Each module is compiled
 * once per thread; each node gets an instance of its own, so its state and buffers
 * live in its own linear memory, laid out once when the node starts.
 */
import { RemoteMediaError } from '../../errors.ts';
import { DSP_WASM_BASE64 } from './dsp-wasm.generated.ts';

export type DspVariant = 'simd' | 'scalar';

/** The kernels' exports; pointers are byte offsets into `memory`. */
export interface DspExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  resample(
    table: number,
    taps: number,
    input: number,
    output: number,
    stride: number,
    pos0: number,
    up: number,
    down: number,
    count: number,
  ): void;
  /** resample for filters with symmetric rows (lens: each row's length), transposed. */
  resampleSymmetric(
    table: number,
    taps: number,
    lens: number,
    input: number,
    frames: number,
    streams: number,
    streamLen: number,
    ptrs: number,
    output: number,
    stride: number,
    pos0: number,
    up: number,
    down: number,
    count: number,
  ): void;
  splitPhases(src: number, stride: number, n: number, first: number, second: number): void;
  halfband(
    h: number,
    taps: number,
    centre: number,
    even: number,
    odd: number,
    output: number,
    stride: number,
    count: number,
  ): void;
  gain(buffer: number, n: number, factor: number, limit: number): number;
  /** gain from src into dst; -1 when a src sample is not finite (src untouched). */
  gainChecked(src: number, dst: number, n: number, factor: number, limit: number): number;
  int16ToFloat(src: number, dst: number, n: number): void;
  floatToInt16(src: number, dst: number, n: number): number;
  sumSquares(buffer: number, n: number): number;
  dftPower(basis: number, frame: number, nfft: number, bins: number, power: number): void;
  matVec(matrix: number, vector: number, rows: number, cols: number, out: number): void;
}

const compiled = new Map<DspVariant, Promise<WebAssembly.Module>>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let simdSupported: boolean | undefined;

/** Whether this engine runs WebAssembly SIMD (validates the SIMD build once). */
export function dspSimdSupported(): boolean {
  simdSupported ??= WebAssembly.validate(decode(DSP_WASM_BASE64.simd));
  return simdSupported;
}

function compile(variant: DspVariant): Promise<WebAssembly.Module> {
  let module = compiled.get(variant);
  if (!module) {
    module = WebAssembly.compile(decode(DSP_WASM_BASE64[variant]));
    compiled.set(variant, module);
  }
  return module;
}

/**
 * A DSP instance with a bump allocator over its memory. Allocation happens when a
 * node starts (or a larger frame arrives), never per frame.
 */
export class DspInstance {
  private top: number;

  private constructor(
    readonly exports: DspExports,
    readonly variant: DspVariant,
  ) {
    this.top = align(exports.heapBase());
  }

  /** SIMD when the engine has it, unless a variant is asked for. */
  static async create(variant?: DspVariant): Promise<DspInstance> {
    const chosen = variant ?? (dspSimdSupported() ? 'simd' : 'scalar');
    if (chosen === 'simd' && !dspSimdSupported()) {
      throw new RemoteMediaError('usage', 'WebAssembly SIMD is not supported by this engine');
    }
    const instance = await WebAssembly.instantiate(await compile(chosen));
    return new DspInstance(instance.exports as unknown as DspExports, chosen);
  }

  /** Reserves `bytes` (16-byte aligned) and returns its offset; grows memory as needed. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + bytes);
    const memory = this.exports.memory;
    const missing = this.top - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / 65536));
    return at;
  }

  /** A float32 view; views die when memory grows, so take them after allocating. */
  f32(pointer: number, length: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, pointer, length);
  }

  i16(pointer: number, length: number): Int16Array {
    return new Int16Array(this.exports.memory.buffer, pointer, length);
  }
}

/**
 * A float32 work buffer in a DSP instance that grows (by doubling) when a larger
 * frame arrives, so steady streams reuse one buffer.
 */
export class DspScratch {
  pointer = 0;
  private capacity = 0;

  constructor(private readonly dsp: DspInstance) {}

  /** A view of at least n floats; valid until the next call. */
  f32(n: number): Float32Array {
    this.reserve(n);
    return this.dsp.f32(this.pointer, n);
  }

  /** Room for n floats at `pointer`, without a view (for a caller that keeps its own). */
  reserve(n: number): number {
    if (n > this.capacity) {
      this.capacity = Math.max(n, this.capacity * 2, 1024);
      this.pointer = this.dsp.alloc(this.capacity * 4);
    }
    return this.pointer;
  }
}

function align(n: number): number {
  return (n + 15) & ~15;
}

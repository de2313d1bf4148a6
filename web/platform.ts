/**
 * The one place that answers "where am I running and what can I use". Everything
 * outside web/core asks this module instead of sniffing globals itself.
 */

const scope = globalThis as typeof globalThis & {
  crossOriginIsolated?: boolean;
  WorkerGlobalScope?: unknown;
  AudioWorkletNode?: unknown;
  window?: unknown;
};

export const platform = {
  /** A browser page or worker (as opposed to Node). */
  inBrowser: typeof scope.window !== 'undefined' || typeof scope.WorkerGlobalScope !== 'undefined',
  inWorker: typeof scope.WorkerGlobalScope !== 'undefined' && typeof scope.window === 'undefined',
  /** COOP/COEP are in force: SharedArrayBuffer and Atomics.wait are allowed. */
  crossOriginIsolated: scope.crossOriginIsolated === true,
  sharedArrayBuffer:
    typeof SharedArrayBuffer !== 'undefined' && scope.crossOriginIsolated !== false,
  workers: typeof Worker !== 'undefined',
  audioWorklet: typeof scope.AudioWorkletNode !== 'undefined',
  webSocket: typeof WebSocket !== 'undefined',
} as const;

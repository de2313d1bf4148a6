/**
 * V8's sampling heap profiler over one timed phase of a gateway benchmark, through
 * the inspector of this process: what was allocated (or, with the minor GC's
 * objects left out, what lived into the old generation), summed per allocation
 * site and caller, per frame the gateway took in that phase. Used by
 * bench/gateway-heap.ts and bench/gateway-profile.ts.
 */
import { Session } from 'node:inspector';

interface HeapSample {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapSample[];
}

/** Bytes per frame, by `site <- caller`, largest first; and their total per frame. */
export interface HeapSites {
  perFrame: number;
  sites: [site: string, bytesPerFrame: number][];
}

/**
 * Call with 'start' and then 'stop'; 'stop' resolves with what was sampled.
 * `frames` counts the frames taken so far; `params` are HeapProfiler.startSampling's.
 */
export function heapSamplingPhase(
  frames: () => number,
  params: {
    samplingInterval: number;
    includeObjectsCollectedByMajorGC?: boolean;
    includeObjectsCollectedByMinorGC?: boolean;
  },
): (phase: 'start' | 'stop') => Promise<HeapSites | undefined> {
  const session = new Session();
  session.connect();
  const post = (method: string, body?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, body, (error, result) => (error ? reject(error) : resolve(result))),
    );
  let before = 0;
  return async (phase) => {
    if (phase === 'start') {
      before = frames();
      await post('HeapProfiler.startSampling', params);
      return undefined;
    }
    const count = Math.max(1, frames() - before);
    const { profile } = (await post('HeapProfiler.stopSampling')) as {
      profile: { head: HeapSample };
    };
    session.disconnect();
    const sites = new Map<string, number>();
    let total = 0;
    const walk = (node: HeapSample, caller: string) => {
      const { functionName, url, lineNumber } = node.callFrame;
      const here = `${functionName || '(anonymous)'} ${url.replace(/^.*\//, '')}:${lineNumber + 1}`;
      if (node.selfSize) {
        const key = `${here} <- ${caller}`;
        sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const child of node.children) walk(child, here);
    };
    walk(profile.head, '');
    return {
      perFrame: total / count,
      sites: [...sites]
        .sort((a, b) => b[1] - a[1])
        .map(([site, bytes]): [string, number] => [site, bytes / count]),
    };
  };
}

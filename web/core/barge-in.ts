/**
 * Barge-in, the manifest setting: when node `from` emits an event named `on`
 * (SileroVAD's `speech_start`) or an `interrupt` control, the executor sends an
 * `interrupt` control downstream of it and at once interrupts the nodes in `to`
 * (each downstream of `from`): their `interrupt()` hook drops in-flight work, and
 * data older than the interrupt that still reaches them is dropped, counted in
 * their metrics. Without `from`, an interrupt control given as the pipeline's input
 * does it (an application's own button; a split pipeline's island, whose `from` runs
 * in another island).
 */
import type { ManifestIssue } from './errors.ts';
import type { PipelineGraph } from './graph.ts';
import type { Manifest } from './manifest.ts';
import type { RuntimeData } from './runtime-data.ts';

export interface BargeIn {
  /** The node whose output triggers it; absent: an interrupt given as input. */
  from?: string;
  /** Event name that triggers it. Default `speech_start`. */
  on?: string;
  /**
   * The nodes whose in-flight work an interrupt cancels. Empty (with `from`): the
   * interrupt control flows downstream, cancelling nothing in this pipeline.
   */
  to: string[];
  /**
   * More nodes to interrupt with `to`, in an island of a split pipeline (placement.ts
   * sets it): those that `from` reaches only through another island (vad on the
   * worker, then stt on a gateway, then tts on the worker again). Their reachability
   * was checked on the whole manifest; here they are interrupted at once with `to`,
   * and their stale inputs end when the interrupt control comes back over the boundary.
   */
  toAcross?: string[];
  /**
   * The longest time an interrupt keeps a `to` node's inputs stale when its in-band
   * control never reaches it (an out-of-band interrupt whose frame was lost or never
   * sent); default 10 000 (interrupt-gate.ts, DEFAULT_STALE_LIMIT_MS).
   */
  staleLimitMs?: number;
}

/** Every node the setting interrupts in this pipeline. */
export function bargeInTargets(setting: BargeIn): string[] {
  return [...setting.to, ...(setting.toAcross ?? [])];
}

export const DEFAULT_BARGE_IN_EVENT = 'speech_start';

/** The manifest's setting, if it has one. */
export function bargeInOf(manifest: Manifest): BargeIn | undefined {
  return manifest.bargeIn as BargeIn | undefined;
}

/** Whether `data`, emitted by node `nodeId`, triggers the setting. */
export function triggersBargeIn(setting: BargeIn, nodeId: string, data: RuntimeData): boolean {
  if (setting.from !== nodeId) return false;
  if (data.kind === 'control') return data.signal === 'interrupt';
  return data.kind === 'event' && data.name === (setting.on ?? DEFAULT_BARGE_IN_EVENT);
}

export function isInterrupt(data: RuntimeData): boolean {
  return data.kind === 'control' && data.signal === 'interrupt';
}

/** The meaning checks of a setting whose structure is valid, against the graph. */
export function bargeInIssues(setting: BargeIn, graph: PipelineGraph): ManifestIssue[] {
  const ids = [...graph.downstream.keys()];
  const issues: ManifestIssue[] = [];
  const issue = (path: string, message: string, nodeId?: string) =>
    issues.push({ code: 'invalid_barge_in', path, message, ...(nodeId ? { nodeId } : {}) });
  let below: Set<string> | undefined;
  if (setting.from !== undefined) {
    if (!graph.downstream.has(setting.from)) {
      issue('bargeIn.from', `unknown node '${setting.from}'; node ids are: ${ids.join(', ')}`);
    } else {
      below = descendants(graph, setting.from);
    }
  }
  if (setting.to.length === 0 && setting.from === undefined) {
    issue('bargeIn.to', 'must list the node ids to interrupt, such as ["tts", "speaker"]');
  }
  const seen = new Set<string>();
  setting.to.forEach((id, index) => {
    const at = `bargeIn.to[${index}]`;
    if (!graph.downstream.has(id)) {
      issue(at, `unknown node '${id}'; node ids are: ${ids.join(', ')}`);
    } else if (seen.has(id)) {
      issue(at, `'${id}' is listed twice`, id);
    } else if (below && !below.has(id)) {
      const valid = [...below].join(', ') || 'none: it is a sink';
      issue(
        at,
        `'${id}' is not downstream of '${setting.from}', so its interrupt could not reach it; nodes downstream of '${setting.from}': ${valid}`,
        id,
      );
    }
    seen.add(id);
  });
  (setting.toAcross ?? []).forEach((id, index) => {
    const at = `bargeIn.toAcross[${index}]`;
    if (!graph.downstream.has(id))
      issue(at, `unknown node '${id}'; node ids are: ${ids.join(', ')}`);
    else if (seen.has(id)) issue(at, `'${id}' is listed twice`, id);
    seen.add(id);
  });
  return issues;
}

/** Every node reachable from `id` (not `id` itself). */
export function descendants(graph: PipelineGraph, id: string): Set<string> {
  const found = new Set<string>();
  const stack = [...graph.downstream.get(id)!];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (found.has(next)) continue;
    found.add(next);
    stack.push(...graph.downstream.get(next)!);
  }
  return found;
}

/**
 * Barge-in at run time, for the streaming executor (pipeline-session.ts). One
 * InterruptGate per node; a BargeInRouter per session applies the manifest's
 * `bargeIn` setting (barge-in.ts):
 *
 * - when `from` emits its trigger, every `to` node is interrupted at once, out of
 *   band (its inbox may hold data for seconds): its `interrupt()` hook runs, and its
 *   gate turns stale, so that inputs it takes before the in-band `interrupt` control
 *   (which the router sends downstream of `from`, behind the trigger) are dropped,
 *   and outputs of a call that began before the interrupt are dropped too;
 * - nodes not listed only forward the control: interrupt flows downstream only,
 *   and cancels only what the setting names.
 *
 * Single-threaded, like the executor; nothing here awaits.
 */
import { type BargeIn, bargeInTargets, isInterrupt, triggersBargeIn } from './barge-in.ts';
import type { NodeContext, NodeInstance } from './node-contract.ts';
import type { NodeMetrics } from './node-metrics.ts';
import { RuntimeData } from './runtime-data.ts';

export class InterruptGate {
  /** Counts interrupts; a call remembers the value it began with (see `current`). */
  epoch = 0;
  /** Inputs are stale until the in-band interrupt control reaches this node. */
  private stale = false;

  constructor(
    private readonly instance: NodeInstance,
    private readonly context: NodeContext,
    private readonly metrics: NodeMetrics,
    /** A hook that throws or rejects fails the session, like any node error. */
    private readonly onError: (cause: unknown) => void,
  ) {}

  /** Interrupts the node now (its hook runs, even while it is processing). */
  interrupt(): void {
    this.epoch++;
    this.stale = true;
    this.metrics.interrupts++;
    try {
      const done = this.instance.interrupt?.(this.context);
      if (done instanceof Promise) done.catch(this.onError);
    } catch (cause) {
      this.onError(cause);
    }
  }

  /** An input taken from the inbox: false when it is stale data that must be dropped (counted). */
  admit(item: RuntimeData): boolean {
    if (isInterrupt(item)) {
      this.stale = false;
      return true;
    }
    // Controls and events are not work: they pass (the trigger's own event among them).
    if (!this.stale || item.kind === 'control' || item.kind === 'event') return true;
    this.metrics.droppedOnInterrupt++;
    return false;
  }

  /** Whether an output of a call that began at `epoch` is still wanted; counts a drop if not. */
  current(epoch: number): boolean {
    if (epoch === this.epoch) return true;
    this.metrics.droppedOnInterrupt++;
    return false;
  }
}

export class BargeInRouter {
  /** The timestamp of the last interrupt taken as input (see `input`). */
  private lastInput: number | undefined;

  constructor(
    private readonly setting: BargeIn | undefined,
    private readonly gates: ReadonlyMap<string, InterruptGate>,
    /** False once the session ended: nothing is left to interrupt. */
    private readonly live: () => boolean,
    /** Told of each stamped trigger of `from` (PipelineSessionOptions.onBargeIn). */
    private readonly onTrigger?: (timestampUs: number) => void,
  ) {}

  /**
   * For each item node `nodeId` emits, before it is delivered: interrupts the
   * setting's nodes when the item is its trigger, and returns the interrupt control
   * to deliver after an event trigger (an interrupt control is itself the marker),
   * stamped with the trigger's time: that names the interrupt on its way.
   */
  emitted(nodeId: string, item: RuntimeData): RuntimeData | undefined {
    if (!this.setting || !triggersBargeIn(this.setting, nodeId, item)) return undefined;
    this.interruptTargets();
    // Unstamped, its in-band copy could not be told from a new interrupt: in band only.
    if (item.timestampUs !== undefined && this.live()) this.onTrigger?.(item.timestampUs);
    if (isInterrupt(item)) return undefined;
    const marker = RuntimeData.control('interrupt');
    if (item.timestampUs !== undefined) marker.timestampUs = item.timestampUs;
    return marker;
  }

  /**
   * For an input given to the session: with no `from`, an interrupt control
   * triggers it — once per interrupt: an island reached by one interrupt through
   * two boundaries (before and after a remote node) sees the same stamp twice.
   */
  input(item: RuntimeData): void {
    if (!this.setting || this.setting.from !== undefined || !isInterrupt(item)) return;
    if (item.timestampUs !== undefined) {
      if (item.timestampUs === this.lastInput) return;
      this.lastInput = item.timestampUs;
    }
    this.interruptTargets();
  }

  private interruptTargets(): void {
    if (!this.live()) return;
    for (const id of bargeInTargets(this.setting!)) this.gates.get(id)?.interrupt();
  }
}

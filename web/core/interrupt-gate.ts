/**
 * Barge-in at run time, for the streaming executor (pipeline-session.ts). One
 * InterruptGate per node; a BargeInRouter per session applies the manifest's
 * `bargeIn` setting (barge-in.ts):
 *
 * - when `from` emits its trigger, every `to` node is interrupted at once, out of
 *   band (its inbox may hold data for seconds): its `interrupt()` hook runs, and its
 *   gate turns stale, so that inputs it takes before the in-band `interrupt` control
 *   (which the router sends downstream of `from`, behind the trigger) are dropped,
 *   and outputs of a call that began before the interrupt are dropped too. Stale
 *   is bounded: an interrupt that came out of band (the gateway's `interrupt`
 *   message, PipelineHost.interruptIsland) and whose in-band control never follows
 *   (a client that broke the protocol, a frame lost on the way) would otherwise wedge
 *   the node; after `staleLimitMs` (bargeIn.staleLimitMs, default 10 s) its inputs
 *   are taken again;
 * - nodes not listed only forward the control: interrupt flows downstream only,
 *   and cancels only what the setting names.
 *
 * Single-threaded, like the executor; nothing here awaits.
 */
import { type BargeIn, bargeInTargets, isInterrupt, triggersBargeIn } from './barge-in.ts';
import type { NodeContext, NodeInstance } from './node-contract.ts';
import type { NodeMetrics } from './node-metrics.ts';
import { RuntimeData } from './runtime-data.ts';

/**
 * How long an interrupt keeps a node's inputs stale at most when its in-band control
 * does not come. Long, because the control travels behind the data queued in the
 * nodes between the trigger and this one (a recognizer's backlog at 0.2x real time),
 * and data let through before it would be the cancelled turn's.
 */
export const DEFAULT_STALE_LIMIT_MS = 10_000;

/**
 * From an interrupt until its in-band `interrupt` control passes, or at most
 * `limitMs`: the items that pass meanwhile are the cancelled turn's. Controls and
 * events are never stale. Single-threaded; never waits.
 */
export class StaleWindow {
  /** When the last interrupt began it (ms, `now`); undefined: not stale. */
  private since: number | undefined;
  /** The stamp of the last interrupt control that passed: its late out-of-band copy is no new one. */
  private lastPassed: number | undefined;

  constructor(
    private readonly limitMs = DEFAULT_STALE_LIMIT_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** An interrupt, stamped `timestampUs` if known: stale from now (unless its control already passed). */
  open(timestampUs?: number): void {
    if (timestampUs !== undefined && timestampUs === this.lastPassed) return;
    this.since = this.now();
  }

  /** Whether `item` passes: false while stale, for data. */
  admit(item: RuntimeData): boolean {
    if (isInterrupt(item)) {
      this.since = undefined;
      this.lastPassed = item.timestampUs;
      return true;
    }
    if (this.since === undefined || item.kind === 'control' || item.kind === 'event') return true;
    if (this.now() - this.since >= this.limitMs) {
      this.since = undefined; // its in-band control never came: do not wedge
      return true;
    }
    return false;
  }
}

/**
 * One node's interrupts. The hook runs once per turn, not once per message: a flood
 * of out-of-band interrupts (10 000 `interrupt` messages from a hostile or looping
 * client) must not run 10 000 hooks. An interrupt is coalesced — counted in
 * `interrupts`, its inputs made stale, its hook not run — when
 * - the hook of an earlier one is still running (an async hook): it is run once more
 *   when that one settles, if a coalesced interrupt was a new turn and the node has
 *   taken no data since (data the gate admitted is past that interrupt: the owed run
 *   would stop its call, and a caller waiting for that output would wait for ever);
 *   a hook still running after `staleLimitMs` no longer holds the next turn's back;
 * - or it is no new turn: the node took no data since the hook last ran, and the
 *   interrupt bears no stamp other than that hook's (the turn it would cancel is the
 *   one already cancelled; data queued but not yet taken is dropped as stale anyway).
 */
export class InterruptGate {
  /** Counts interrupts; a call remembers the value it began with (see `current`). */
  epoch = 0;
  private readonly stale: StaleWindow;
  /** Whether the node took data since its hook last ran (false before any hook: see `interrupt`). */
  private workSinceHook = true;
  /** The stamp of the interrupt whose hook ran last. */
  private hookedStamp: number | undefined;
  /** Whether an async hook is still running. */
  private hookRunning = false;
  /** When it began (ms, performance.now()): one that hangs past the stale limit no longer holds the others back. */
  private hookStartedAt = 0;
  /** Counts hook runs: a settling hook that a later one replaced changes nothing. */
  private hookRuns = 0;
  /**
   * A new turn's interrupt came while the hook ran: run it again when it settles,
   * unless the node admits data first (see `admit`).
   */
  private rerun: { stamp: number | undefined } | undefined;

  constructor(
    private readonly instance: NodeInstance,
    private readonly context: NodeContext,
    private readonly metrics: NodeMetrics,
    /** A hook that throws or rejects fails the session, like any node error. */
    private readonly onError: (cause: unknown) => void,
    /** At most this long after an interrupt, inputs are taken again (see DEFAULT_STALE_LIMIT_MS). */
    private readonly staleLimitMs = DEFAULT_STALE_LIMIT_MS,
  ) {
    this.stale = new StaleWindow(staleLimitMs);
  }

  /**
   * Interrupts the node now, stamped `timestampUs` if known: its hook runs (even
   * while it is processing) unless the interrupt is coalesced (see the class).
   */
  interrupt(timestampUs?: number): void {
    this.epoch++;
    this.stale.open();
    this.metrics.interrupts++;
    const newTurn =
      this.workSinceHook || (timestampUs !== undefined && timestampUs !== this.hookedStamp);
    if (!newTurn) return;
    // A hook that never settles (a node bug) must not cancel every later turn's hook.
    if (this.hookRunning && performance.now() - this.hookStartedAt < this.staleLimitMs) {
      this.rerun = { stamp: timestampUs };
      return;
    }
    this.rerun = undefined;
    this.runHook(timestampUs);
  }

  private runHook(timestampUs: number | undefined): void {
    const run = ++this.hookRuns;
    this.hookRunning = false;
    this.workSinceHook = false;
    this.hookedStamp = timestampUs;
    try {
      const done = this.instance.interrupt?.(this.context);
      if (!(done instanceof Promise)) return;
      this.hookRunning = true;
      this.hookStartedAt = performance.now();
      done.then(
        () => {
          if (run !== this.hookRuns) return; // a later hook replaced it
          this.hookRunning = false;
          const again = this.rerun;
          this.rerun = undefined;
          if (again) this.runHook(again.stamp);
        },
        (cause: unknown) => {
          if (run === this.hookRuns) {
            this.hookRunning = false;
            this.rerun = undefined;
          }
          this.onError(cause);
        },
      );
    } catch (cause) {
      this.onError(cause);
    }
  }

  /**
   * An input taken from the inbox: false when it is stale data that must be dropped
   * (counted). Stale from an interrupt until the in-band interrupt control reaches
   * this node, or `staleLimitMs` after the interrupt, whichever comes first.
   */
  admit(item: RuntimeData): boolean {
    // Controls and events are not work: they pass (the trigger's own event among them).
    if (this.stale.admit(item)) {
      if (item.kind !== 'control' && item.kind !== 'event') {
        this.workSinceHook = true;
        // Data admitted now is no cancelled turn's (the in-band interrupt passed, or the
        // stale limit did): a hook run still owed to an interrupt before it would stop
        // this item's call (see `rerun`).
        this.rerun = undefined;
      }
      return true;
    }
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
  /** Unstamped interrupts taken out of band whose in-band copy has not come yet. */
  private unstampedAhead = 0;
  /**
   * When the last of them came (ms, performance.now()). Past the stale limit their
   * copies count as lost (the frame never followed), so the next unstamped in-band
   * interrupt is a new one: a lost frame, or a flood of bare `interrupt` messages,
   * must not swallow the genuine barge-ins that come later.
   */
  private unstampedAt = 0;
  /** The last stamp given to an unstamped trigger (see `stampOf`). */
  private lastStamp = 0;

  constructor(
    private readonly setting: BargeIn | undefined,
    private readonly gates: ReadonlyMap<string, InterruptGate>,
    /** False once the session ended: nothing is left to interrupt. */
    private readonly live: () => boolean,
    /** Told of each trigger of `from`, with its stamp (PipelineSessionOptions.onBargeIn). */
    private readonly onTrigger?: (timestampUs: number) => void,
  ) {}

  /**
   * For each item node `nodeId` emits, before it is delivered: interrupts the
   * setting's nodes when the item is its trigger, and returns what to deliver in its
   * place — undefined: the item as it is. After an event trigger comes the interrupt
   * control (an interrupt control trigger is itself the marker), stamped with the
   * trigger's time: the stamp names the interrupt on its way, so that the islands
   * told out of band (`onTrigger`) take its in-band copy once. A trigger without a
   * stamp gets one here (an unstamped interrupt control is delivered stamped).
   */
  emitted(nodeId: string, item: RuntimeData): RuntimeData[] | undefined {
    if (!this.setting || !triggersBargeIn(this.setting, nodeId, item)) return undefined;
    const stamp = this.stampOf(item);
    this.interruptTargets(stamp);
    if (this.live()) this.onTrigger?.(stamp);
    const marker: RuntimeData = { kind: 'control', signal: 'interrupt', timestampUs: stamp };
    if (!isInterrupt(item)) return [item, marker];
    return item.timestampUs === undefined ? [marker] : undefined;
  }

  /**
   * For an input given to the session, in band (`outOfBand` false: a frame behind
   * the queued input) or out of band (PipelineSession.interrupt: ahead of it). With
   * no `from`, an interrupt control triggers it — once per interrupt: an island
   * reached by one interrupt through two boundaries, or told of it out of band and
   * then in band, sees the same stamp twice. An unstamped interrupt taken out of band
   * takes the next unstamped interrupt given in band as its copy.
   */
  input(item: RuntimeData, outOfBand = false): void {
    if (!this.setting || this.setting.from !== undefined || !isInterrupt(item)) return;
    if (item.timestampUs !== undefined) {
      if (item.timestampUs === this.lastInput) return;
      this.lastInput = item.timestampUs;
    } else if (outOfBand) {
      this.unstampedAhead++;
      this.unstampedAt = performance.now();
    } else if (this.unstampedAhead > 0) {
      const limit = this.setting.staleLimitMs ?? DEFAULT_STALE_LIMIT_MS;
      if (performance.now() - this.unstampedAt < limit) {
        this.unstampedAhead--;
        return;
      }
      this.unstampedAhead = 0; // their copies were lost: this one is new
    }
    this.interruptTargets(item.timestampUs);
  }

  private interruptTargets(timestampUs: number | undefined): void {
    if (!this.live()) return;
    for (const id of bargeInTargets(this.setting!)) this.gates.get(id)?.interrupt(timestampUs);
  }

  /** The trigger's stamp, or a new one (µs, this thread's clock) that none before it had. */
  private stampOf(item: RuntimeData): number {
    if (item.timestampUs !== undefined) return item.timestampUs;
    this.lastStamp = Math.max(Math.round(performance.now() * 1000), this.lastStamp + 1);
    return this.lastStamp;
  }
}

/**
 * Barge-in as a hostile (or unlucky) client drives the core: unstamped out-of-band
 * interrupts whose in-band frame never comes, floods of them, stamps far in the
 * future, far in the past, negative and huge, and staleLimitMs at its edges.
 * Each test names the bug it caught.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ManifestValidationError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import { defineNode } from './node-contract.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { RuntimeData } from './runtime-data.ts';
import type { SessionOutput } from './transport.ts';

/** Passes everything on, counting its interrupt() hook runs. */
let hooks = 0;
const Reply = defineNode({
  type: 'AttackReply',
  params: z.object({}),
  create: () => ({
    process: (input) => input,
    interrupt: () => void hooks++,
  }),
});
const runner = new PipelineRunner({ nodes: [Reply] });

function island(bargeIn: Record<string, unknown> = {}): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'attack-barge-in' },
    nodes: [{ id: 'tts', node_type: 'AttackReply', params: {} }],
    connections: [],
    bargeIn: { to: ['tts'], ...bargeIn },
  } as Manifest;
}

async function drain(session: Awaited<ReturnType<typeof runner.createStreamSession>>) {
  const outputs: SessionOutput[] = [];
  const closing = session.close();
  for await (const output of session) outputs.push(output);
  await closing;
  return outputs.filter((o) => o.data.kind === 'json').map((o) => o.data);
}

/** The next json output (the interrupt controls flow out too). */
async function nextJson(session: Awaited<ReturnType<typeof runner.createStreamSession>>) {
  for (;;) {
    const output = await session.recvOutput();
    if (!output || output.data.kind === 'json') return output?.data;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('unstamped out-of-band interrupts whose frame never comes', () => {
  // BargeInRouter counted unstamped out-of-band interrupts (unstampedAhead) with no
  // bound: one whose frame was lost (the case staleLimitMs exists for) made the
  // session take the NEXT genuine unstamped interrupt, minutes later, as its copy,
  // so that barge-in did nothing (no hook, nothing dropped) — and a flood of N made
  // the next N interrupts do nothing.
  it('a lost frame does not swallow the next genuine interrupt once the stale limit passed', async () => {
    hooks = 0;
    const session = await runner.createStreamSession(island({ staleLimitMs: 5 }));
    session.interrupt(); // the gateway's `interrupt` message; its frame is lost
    await sleep(20); // past the limit: that interrupt is over
    await session.sendInput(RuntimeData.json('reply one'));
    expect(await nextJson(session)).toEqual(RuntimeData.json('reply one')); // a new turn
    await session.sendInput(RuntimeData.control('interrupt')); // a new barge-in
    await drain(session);
    expect(hooks).toBe(2);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts.interrupts).toBe(2);
  });

  // The flood itself ran the hook 10,000 times (once per message): it is one turn's
  // interrupt, coalesced into one hook run; the three genuine turns after it run theirs.
  it('a flood of 10,000 lost unstamped interrupts runs the hook once and swallows none of the next', async () => {
    hooks = 0;
    const session = await runner.createStreamSession(island({ staleLimitMs: 5 }));
    for (let i = 0; i < 10_000; i++) session.interrupt();
    expect(hooks).toBe(1);
    await sleep(20);
    for (let i = 0; i < 3; i++) {
      await session.sendInput(RuntimeData.json(`reply ${i}`));
      expect(await nextJson(session)).toEqual(RuntimeData.json(`reply ${i}`));
      await session.sendInput(RuntimeData.control('interrupt'));
    }
    await drain(session);
    expect(hooks).toBe(1 + 3);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts.interrupts).toBe(10_000 + 3); // every interrupt that arrived is counted
  });

  it('within the limit, the in-band copy of an unstamped interrupt still acts once', async () => {
    hooks = 0;
    const session = await runner.createStreamSession(island());
    session.interrupt();
    await session.sendInput(RuntimeData.json('stale'));
    await session.sendInput(RuntimeData.control('interrupt')); // its copy
    await session.sendInput(RuntimeData.json('fresh'));
    const out = await drain(session);
    expect(hooks).toBe(1);
    expect(out).toEqual([RuntimeData.json('fresh')]);
  });
});

describe('a flood of interrupts while an async hook runs', () => {
  /** Its hook runs until the test releases it (a subprocess being stopped). */
  let runs = 0;
  let releaseHook: (() => void) | undefined;
  const Slow = defineNode({
    type: 'AttackSlowHook',
    params: z.object({}),
    create: () => ({
      process: (input) => input,
      interrupt: () => {
        runs++;
        return new Promise<void>((resolve) => (releaseHook = resolve));
      },
    }),
  });
  const slowRunner = new PipelineRunner({ nodes: [Slow] });
  const slowIsland = () =>
    ({
      ...island(),
      nodes: [{ id: 'tts', node_type: 'AttackSlowHook', params: {} }],
    }) as Manifest;

  it('10,000 stamped interrupts start no hook while one runs, and one more after it', async () => {
    runs = 0;
    const session = await slowRunner.createStreamSession(slowIsland());
    for (let i = 1; i <= 10_000; i++) session.interrupt(i);
    expect(runs).toBe(1); // the others came while it ran
    releaseHook!();
    await Promise.resolve(); // the hook's settling
    await Promise.resolve();
    expect(runs).toBe(2); // the later turns, coalesced into one run
    releaseHook!();
    await drain(session);
    expect(runs).toBe(2);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts.interrupts).toBe(10_000);
  });

  // Coalescing while a hook runs must not let a hook that never settles (a node bug)
  // cancel every later turn's hook for the rest of the session.
  it('a hook that never settles holds back no new turn past the stale limit', async () => {
    runs = 0;
    const session = await slowRunner.createStreamSession({
      ...slowIsland(),
      bargeIn: { to: ['tts'], staleLimitMs: 5 },
    } as Manifest);
    session.interrupt(1); // its hook never settles
    await sleep(20);
    await session.sendInput(RuntimeData.json('turn two'));
    expect(await nextJson(session)).toEqual(RuntimeData.json('turn two'));
    session.interrupt(2);
    expect(runs).toBe(2);
    releaseHook!();
    await drain(session);
  });

  it('two interrupts for two separate turns run the hook twice', async () => {
    runs = 0;
    const session = await slowRunner.createStreamSession(slowIsland());
    session.interrupt(1);
    releaseHook!();
    await session.sendInput({ ...RuntimeData.control('interrupt'), timestampUs: 1 }); // its copy
    await session.sendInput(RuntimeData.json('turn two'));
    expect(await nextJson(session)).toEqual(RuntimeData.json('turn two'));
    session.interrupt(); // unstamped, but the node took a new turn's data since
    expect(runs).toBe(2);
    releaseHook!();
    await drain(session);
  });
});

// InterruptGate ran a coalesced interrupt's owed hook (the rerun) when the running
// hook settled, even when the node had by then taken the next turn's input past
// the in-band interrupt: that hook stopped the new call (a PythonNode's hook stops
// the call in flight), its output never came, and a gateway client waiting for it
// hung (remote-gateway/attack-interrupt.test.ts with controls offered without a
// turn between them). What the gate admits, a hook owed from before must not cancel.
describe('a hook owed from before an in-band interrupt and the input after it', () => {
  let runs = 0;
  let releaseHook: (() => void) | undefined;
  /** Set while a call runs; the hook ends it early with no output, as a runner cancel does. */
  let stopCall: (() => void) | undefined;
  let finishCall: (() => void) | undefined;
  let callStarted: () => void = () => {};
  let held = true;
  const Cancellable = defineNode({
    type: 'AttackCancellableCall',
    params: z.object({}),
    create: () => ({
      process: (input) =>
        new Promise<RuntimeData | undefined>((resolve) => {
          stopCall = () => resolve(undefined);
          finishCall = () => resolve(input);
          callStarted();
          if (!held) setTimeout(() => resolve(input), 0);
        }),
      interrupt: () => {
        runs++;
        stopCall?.();
        stopCall = undefined;
        return held
          ? new Promise<void>((resolve) => (releaseHook = resolve))
          : Promise.resolve().then(() => {}); // settles on its own, a few microtasks on
      },
    }),
  });
  const callRunner = new PipelineRunner({ nodes: [Cancellable] });
  const callIsland = () =>
    ({
      ...island(),
      nodes: [{ id: 'tts', node_type: 'AttackCancellableCall', params: {} }],
    }) as Manifest;

  it('the owed hook does not stop the call of input taken after the interrupt passed', async () => {
    runs = 0;
    held = true;
    const started = new Promise<void>((resolve) => (callStarted = resolve));
    const session = await callRunner.createStreamSession(callIsland());
    session.interrupt(1); // its hook runs and holds
    session.interrupt(2); // a new stamp while it runs: one more run is owed
    // The caller's order, without awaits: the in-band interrupt, then the next turn.
    const sends = [
      session.sendInput(RuntimeData.control('interrupt')),
      session.sendInput(RuntimeData.json('next turn')),
    ];
    await started; // the node took 'next turn' past the interrupt: its call runs
    releaseHook!(); // the first hook settles
    await Promise.resolve();
    await Promise.resolve();
    expect(runs).toBe(1); // no hook for a turn that had passed
    finishCall!();
    await Promise.all(sends);
    expect(await drain(session)).toEqual([RuntimeData.json('next turn')]);
    expect(runs).toBe(1);
  });

  it('sendInput(interrupt) then sendInput(x) without awaits, after interrupts out of band: x comes out', async () => {
    runs = 0;
    held = false;
    callStarted = () => {};
    const session = await callRunner.createStreamSession(callIsland());
    session.interrupt(1);
    session.interrupt(2);
    const sends = [
      session.sendInput(RuntimeData.control('interrupt')),
      session.sendInput(RuntimeData.json('next turn')),
    ];
    await Promise.all(sends);
    expect(await drain(session)).toEqual([RuntimeData.json('next turn')]);
    expect(runs).toBe(1);
  });
});

describe('interrupt stamps at the edges', () => {
  it('stamps far in the future, far in the past, negative, zero, -0 and huge each act once', async () => {
    hooks = 0;
    const session = await runner.createStreamSession(island());
    const stamps = [1e18, 1, -5, 0, Number.MAX_SAFE_INTEGER, 2 ** 60, -1e18];
    for (const stamp of stamps) {
      session.interrupt(stamp); // out of band
      await session.sendInput({ ...RuntimeData.control('interrupt'), timestampUs: stamp }); // its copy
      await session.sendInput(RuntimeData.json(`after ${stamp}`));
    }
    // -0 is 0's copy (the same stamp): no new interrupt.
    await session.sendInput({ ...RuntimeData.control('interrupt'), timestampUs: -0 });
    const out = await drain(session);
    // Each stamp acts once (its in-band copy does not act again); the last -0 is a
    // new interrupt here, because the stamp before it was -1e18, not 0.
    expect(hooks).toBe(stamps.length + 1);
    expect(out).toHaveLength(stamps.length);
  });

  it('NaN and infinite stamps are refused as input with a typed error naming timestampUs', async () => {
    const session = await runner.createStreamSession(island());
    for (const stamp of [Number.NaN, Infinity, -Infinity]) {
      await expect(
        session.sendInput({ ...RuntimeData.control('interrupt'), timestampUs: stamp }),
      ).rejects.toThrow(/timestampUs/);
    }
    await session.sendInput(RuntimeData.json('still alive'));
    expect(await drain(session)).toEqual([RuntimeData.json('still alive')]);
  });
});

describe('bargeIn.staleLimitMs at its edges', () => {
  const problems = (staleLimitMs: unknown) => {
    try {
      runner.prepare(island({ staleLimitMs }));
    } catch (error) {
      return (error as ManifestValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
  };

  it('0, negative, fractions, NaN-like strings, null, Infinity: a manifest error at the path', () => {
    for (const bad of [0, -1, 1.5, '100', null, true, [], {}, Infinity, Number.NaN]) {
      const found = problems(bad);
      expect(found.length, `staleLimitMs ${JSON.stringify(bad)}`).toBeGreaterThan(0);
      expect(found.join('\n')).toMatch(/^bargeIn\.staleLimitMs: /m);
    }
  });

  it('1 ms and a huge limit are taken; the huge one keeps dropping stale input', async () => {
    expect(problems(1)).toEqual([]);
    expect(problems(Number.MAX_SAFE_INTEGER)).toEqual([]);
    const session = await runner.createStreamSession(
      island({ staleLimitMs: Number.MAX_SAFE_INTEGER }),
    );
    session.interrupt(42);
    await session.sendInput(RuntimeData.json('stale'));
    expect(await drain(session)).toEqual([]);
  });
});

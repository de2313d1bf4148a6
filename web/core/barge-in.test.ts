import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ManifestValidationError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import { defineNode } from './node-contract.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { type JsonValue, RuntimeData } from './runtime-data.ts';
import type { SessionOutput } from './transport.ts';

/**
 * Barge-in in the core: the manifest's `bargeIn` setting, validated; an interrupt
 * that flows downstream only and cancels only the listed nodes, at once (while their
 * call runs), dropping their stale inputs and outputs, counted in the metrics; and
 * hostile orders. Every wait here is on a promise a node or the test resolves: no
 * timers.
 */
const hooks: string[] = [];
/** Resolved by the test (or by the node's interrupt) to let a blocked synthesis go on. */
let release: (() => void) | undefined;

/** Passes its input on; json "barge" becomes a speech_start event (a VAD hearing speech). */
const Vad = defineNode({
  type: 'TestVad',
  params: z.object({ triggerOnFlush: z.boolean().default(false) }),
  create: ({ triggerOnFlush }) => ({
    process: (input) => {
      if (input.kind !== 'json') return input;
      if (input.value === 'barge') return RuntimeData.event('speech_start', 1);
      // Triggers without a stamp: an event, and an interrupt control of its own.
      if (input.value === 'barge unstamped') return RuntimeData.event('speech_start');
      if (input.value === 'interrupt unstamped') return RuntimeData.control('interrupt');
      return input;
    },
    flush: () => (triggerOnFlush ? RuntimeData.event('speech_start', 2) : undefined),
    interrupt: () => void hooks.push('vad'),
  }),
});

/** "Synthesis": chunk 0 at once, then waits for `release` before chunks 1 and 2. */
const Synth = defineNode({
  type: 'TestSynth',
  params: z.object({ block: z.boolean().default(true) }),
  accepts: ['json'],
  create: ({ block }) => ({
    async *process(input) {
      yield RuntimeData.json({ chunk: 0, of: input.kind === 'json' ? input.value : null });
      if (block) await new Promise<void>((resolve) => (release = resolve));
      yield RuntimeData.json({ chunk: 1 });
      yield RuntimeData.json({ chunk: 2 });
    },
    interrupt: () => {
      hooks.push('tts');
      release?.(); // a real engine stops its subprocess here
    },
  }),
});

/** Passes everything on, and records its interrupts. */
const Named = defineNode({
  type: 'TestNamed',
  params: z.object({ name: z.string() }),
  create: ({ name }) => ({
    process: (input) => input,
    interrupt: () => void hooks.push(name),
  }),
});

const runner = new PipelineRunner({ nodes: [Vad, Synth, Named] });

function voiceLoop(bargeIn: unknown, vadParams: Record<string, unknown> = {}): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'barge-in' },
    nodes: [
      { id: 'mic', node_type: 'TestNamed', params: { name: 'mic' } },
      { id: 'vad', node_type: 'TestVad', params: vadParams },
      { id: 'tts', node_type: 'TestSynth', params: {} },
      { id: 'speaker', node_type: 'TestNamed', params: { name: 'speaker' } },
      { id: 'transcript', node_type: 'TestNamed', params: { name: 'transcript' } },
    ],
    connections: [
      { from: 'mic', to: 'vad' },
      { from: 'vad', to: 'tts' },
      { from: 'tts', to: 'speaker' },
      { from: 'vad', to: 'transcript' },
    ],
    ...(bargeIn === undefined ? {} : { bargeIn }),
  } as Manifest;
}

const SETTING = { from: 'vad', to: ['tts', 'speaker'] };

function chunks(outputs: SessionOutput[]): JsonValue[] {
  return outputs
    .filter((o) => o.nodeId === 'speaker' && o.data.kind === 'json')
    .map((o) => (o.data as { value: JsonValue }).value);
}

async function next(session: { recvOutput(): Promise<SessionOutput | undefined> }, nodeId: string) {
  for (;;) {
    const output = await session.recvOutput();
    if (!output || output.nodeId === nodeId) return output;
  }
}

describe('bargeIn in the manifest', () => {
  const problems = (bargeIn: unknown) => {
    try {
      runner.prepare(voiceLoop(bargeIn));
    } catch (error) {
      return (error as ManifestValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
  };

  it('accepts from/on/to, and to alone (an interrupt given as input)', () => {
    expect(problems({ from: 'vad', on: 'speech_start', to: ['tts', 'speaker'] })).toEqual([]);
    expect(problems({ to: ['tts'] })).toEqual([]);
  });

  it('refuses a node that is not downstream of from, naming the ones that are', () => {
    expect(problems({ from: 'tts', to: ['transcript'] })).toEqual([
      "bargeIn.to[0]: 'transcript' is not downstream of 'tts', so its interrupt could not reach it; nodes downstream of 'tts': speaker",
    ]);
    expect(problems({ from: 'vad', to: ['mic'] })[0]).toMatch(
      /^bargeIn.to\[0\]: 'mic' is not downstream of 'vad'/,
    );
  });

  it('refuses unknown ids, duplicates, an empty list and a misspelt key, each at its path', () => {
    expect(problems({ from: 'vda', to: ['tts'] })).toEqual([
      "bargeIn.from: unknown node 'vda'; node ids are: mic, vad, tts, speaker, transcript",
    ]);
    expect(problems({ from: 'vad', to: ['tts', 'spekaer', 'tts'] })).toEqual([
      "bargeIn.to[1]: unknown node 'spekaer'; node ids are: mic, vad, tts, speaker, transcript",
      "bargeIn.to[2]: 'tts' is listed twice",
    ]);
    expect(problems({ to: [] })).toEqual([
      'bargeIn.to: must list the node ids to interrupt, such as ["tts", "speaker"]',
    ]);
    expect(problems({ from: 'vad', to: [] })).toEqual([]); // flows on, cancels nothing here
    expect(problems({ form: 'vad', to: ['tts'] }).join()).toMatch(/bargeIn.*form/);
  });
});

describe('interrupt in the streaming executor', () => {
  it('stops the listed nodes while their call runs: the first chunk arrived, the rest never does', async () => {
    hooks.length = 0;
    const session = await runner.createStreamSession(voiceLoop(SETTING));
    await session.sendInput(RuntimeData.json('a long reply'));
    // The synthesis is blocked after chunk 0: its call cannot have finished.
    expect((await next(session, 'speaker'))?.data).toEqual(
      RuntimeData.json({ chunk: 0, of: 'a long reply' }),
    );
    await session.sendInput(RuntimeData.json('barge'));
    const rest: SessionOutput[] = [];
    const closing = session.close();
    for await (const output of session) rest.push(output);
    await closing;
    expect(chunks(rest)).toEqual([]); // chunks 1 and 2 were made after the interrupt: dropped
    expect(hooks).toEqual(['tts', 'speaker']); // not mic (upstream), vad (the emitter), transcript (not listed)
    // The event and the interrupt control still flowed downstream, to every sink.
    const seen = rest.map(
      (o) => `${o.nodeId}:${o.data.kind === 'control' ? o.data.signal : o.data.kind}`,
    );
    expect(seen).toContain('speaker:interrupt');
    expect(seen).toContain('transcript:interrupt');
    expect(seen.indexOf('speaker:event')).toBeLessThan(seen.indexOf('speaker:interrupt'));
    const metrics = new Map((await session.metrics()).map((m) => [m.nodeId, m]));
    expect(metrics.get('tts')).toMatchObject({ interrupts: 1, droppedOnInterrupt: 1 });
    expect(metrics.get('speaker')?.interrupts).toBe(1);
    for (const id of ['mic', 'vad', 'transcript']) expect(metrics.get(id)?.interrupts).toBe(0);
  });

  it('drops inputs older than the interrupt that were waiting for a listed node', async () => {
    hooks.length = 0;
    const session = await runner.createStreamSession(voiceLoop(SETTING));
    await session.sendInput(RuntimeData.json('first reply'));
    expect((await next(session, 'speaker'))?.data).toMatchObject({ value: { chunk: 0 } });
    // Queued behind the blocked call; the interrupt overtakes it out of band.
    await session.sendInput(RuntimeData.json('second reply'));
    await session.sendInput(RuntimeData.json('barge'));
    await session.sendInput(RuntimeData.json('after the interrupt'));
    const rest: SessionOutput[] = [];
    const closing = session.close();
    for await (const output of session) {
      rest.push(output);
      release?.(); // let each later synthesis finish
    }
    await closing;
    expect(chunks(rest)).toEqual([
      { chunk: 0, of: 'after the interrupt' },
      { chunk: 1 },
      { chunk: 2 },
    ]);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts.interrupts).toBe(1);
    expect(tts.droppedOnInterrupt).toBe(2); // chunk 1 of the first reply, and the whole second reply
  });

  it('survives hostile orders: before any data, twice, and at the end of the stream', async () => {
    hooks.length = 0;
    const manifest = voiceLoop(SETTING, { triggerOnFlush: true });
    manifest.nodes[2]!.params = { block: false };
    const session = await runner.createStreamSession(manifest);
    await session.sendInput(RuntimeData.json('barge')); // nothing is playing yet
    await session.sendInput(RuntimeData.json('barge')); // and again
    await session.sendInput(RuntimeData.json('reply'));
    const outputs: SessionOutput[] = [];
    while (chunks(outputs).length < 3) outputs.push((await session.recvOutput())!);
    const closing = session.close(); // vad's flush triggers once more, at the end
    for await (const output of session) outputs.push(output);
    await closing;
    expect(chunks(outputs)).toEqual([{ chunk: 0, of: 'reply' }, { chunk: 1 }, { chunk: 2 }]);
    // The second barge (the same stamp, no data taken between) is coalesced: its
    // turn is the one already cancelled, so the hooks do not run again.
    expect(hooks).toEqual(['tts', 'speaker', 'tts', 'speaker']);
    const metrics = await session.metrics();
    expect(metrics.find((m) => m.nodeId === 'tts')?.interrupts).toBe(3); // all that arrived
  });

  it('without from, an interrupt control given as input interrupts the listed nodes', async () => {
    hooks.length = 0;
    const session = await runner.createStreamSession(voiceLoop({ to: ['tts'] }));
    await session.sendInput(RuntimeData.json('reply'));
    expect((await next(session, 'speaker'))?.data).toMatchObject({ value: { chunk: 0 } });
    await session.sendInput(RuntimeData.control('interrupt'));
    const rest: SessionOutput[] = [];
    const closing = session.close();
    for await (const output of session) rest.push(output);
    await closing;
    expect(chunks(rest)).toEqual([]);
    expect(hooks).toEqual(['tts']);
  });

  it('without the setting, an interrupt is a control that only flows: nothing is cancelled', async () => {
    hooks.length = 0;
    const manifest = voiceLoop(undefined);
    manifest.nodes[2]!.params = { block: false };
    const outputs = await runner.executeBatch(manifest, [
      RuntimeData.json('reply'),
      RuntimeData.control('interrupt'),
    ]);
    expect(hooks).toEqual([]);
    expect(outputs.filter((o) => o.kind === 'json')).toHaveLength(3 + 1);
  });
});

describe('an interrupt whose in-band control never comes', () => {
  const outOfBand = (staleLimitMs?: number) => {
    const manifest = voiceLoop({ to: ['tts'], ...(staleLimitMs ? { staleLimitMs } : {}) });
    manifest.nodes[2]!.params = { block: false };
    return manifest;
  };
  const spoken = async (session: Awaited<ReturnType<typeof runner.createStreamSession>>) => {
    const outputs: SessionOutput[] = [];
    const closing = session.close();
    for await (const output of session) outputs.push(output);
    await closing;
    return chunks(outputs);
  };

  it('keeps the node dropping its input only until bargeIn.staleLimitMs, not for ever', async () => {
    // Told out of band (the gateway's `interrupt` message, PipelineHost.interruptIsland);
    // the frame that should follow is lost: nothing ends the stale state but the limit.
    const session = await runner.createStreamSession(outOfBand(5));
    session.interrupt(7);
    await new Promise((resolve) => setTimeout(resolve, 20)); // past the limit
    await session.sendInput(RuntimeData.json('the next reply'));
    expect(await spoken(session)).toEqual([
      { chunk: 0, of: 'the next reply' },
      { chunk: 1 },
      { chunk: 2 },
    ]);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts).toMatchObject({ interrupts: 1, droppedOnInterrupt: 0 });
  });

  it('still drops what comes before the limit (the default: 10 s)', async () => {
    const session = await runner.createStreamSession(outOfBand());
    session.interrupt(7);
    await session.sendInput(RuntimeData.json('stale'));
    expect(await spoken(session)).toEqual([]);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts).toMatchObject({ interrupts: 1, droppedOnInterrupt: 1 });
  });

  it('refuses a limit that is not a positive whole number of milliseconds, at its path', () => {
    expect(() => runner.prepare(voiceLoop({ to: ['tts'], staleLimitMs: -1 }))).toThrow(
      /bargeIn\.staleLimitMs: must be a positive number of milliseconds/,
    );
  });
});

describe('triggers and interrupts without a stamp', () => {
  it('a trigger without a stamp gets one: other islands are told, its in-band copy acts once', async () => {
    hooks.length = 0;
    const told: number[] = [];
    const manifest = voiceLoop({ from: 'vad', to: ['tts'] });
    manifest.nodes[2]!.params = { block: false };
    for (const trigger of ['barge unstamped', 'interrupt unstamped']) {
      const session = await runner.createStreamSession(manifest, {
        onBargeIn: (t) => told.push(t),
      });
      await session.sendInput(RuntimeData.json(trigger));
      const outputs: SessionOutput[] = [];
      const closing = session.close();
      for await (const output of session) outputs.push(output);
      await closing;
      const markers = outputs.filter((o) => o.nodeId === 'transcript' && o.data.kind === 'control');
      expect(markers).toHaveLength(1);
      expect(markers[0]!.data.timestampUs).toBe(told.at(-1));
    }
    expect(told).toHaveLength(2);
    expect(told[1]!).toBeGreaterThan(told[0]!); // each interrupt its own name
    // The other island, told out of band and then given the in-band copy: once.
    const island = await runner.createStreamSession(voiceLoop({ to: ['tts'] }));
    island.interrupt(told[0]);
    await island.sendInput({ ...RuntimeData.control('interrupt'), timestampUs: told[0]! });
    await island.close();
    expect((await island.metrics()).find((m) => m.nodeId === 'tts')?.interrupts).toBe(1);
  });

  it('an unstamped interrupt out of band takes the next unstamped one in band as its copy', async () => {
    hooks.length = 0;
    const manifest = voiceLoop({ to: ['tts'] });
    manifest.nodes[2]!.params = { block: false };
    const session = await runner.createStreamSession(manifest);
    session.interrupt(); // the gateway's `interrupt` message without timestampUs
    await session.sendInput(RuntimeData.json('stale'));
    await session.sendInput(RuntimeData.control('interrupt')); // its frame: not a second interrupt
    await session.sendInput(RuntimeData.json('fresh'));
    const outputs: SessionOutput[] = [];
    // A new turn: tts took 'fresh' (its chunks came out) before the next interrupt.
    while (chunks(outputs).length < 3) outputs.push((await session.recvOutput())!);
    await session.sendInput(RuntimeData.control('interrupt')); // a new one
    const closing = session.close();
    for await (const output of session) outputs.push(output);
    await closing;
    expect(hooks).toEqual(['tts', 'tts']);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts).toMatchObject({ interrupts: 2, droppedOnInterrupt: 1 });
  });
});

describe('interrupt on the synchronous fast path', () => {
  const SyncVad = defineNode({ ...Vad, type: 'SyncVad', synchronous: true });
  const SyncNamed = defineNode({ ...Named, type: 'SyncNamed', synchronous: true });
  const sync = new PipelineRunner({ nodes: [SyncVad, SyncNamed] });

  it('runs the listed hooks behind the trigger, and the control flows on', () => {
    hooks.length = 0;
    const outputs = sync.executeBatchSync(
      {
        version: 'v1',
        metadata: { name: 'sync-barge-in' },
        nodes: [
          { id: 'vad', node_type: 'SyncVad', params: {} },
          { id: 'a', node_type: 'SyncNamed', params: { name: 'a' } },
          { id: 'b', node_type: 'SyncNamed', params: { name: 'b' } },
        ],
        connections: [
          { from: 'vad', to: 'a' },
          { from: 'a', to: 'b' },
        ],
        bargeIn: { from: 'vad', to: ['b'] },
      },
      [RuntimeData.json(1), RuntimeData.json('barge')],
    );
    expect(hooks).toEqual(['b']);
    expect(outputs.map((o) => (o.kind === 'control' ? o.signal : o.kind))).toEqual([
      'json',
      'event',
      'interrupt',
    ]);
  });
});

describe('barge-in across islands', () => {
  it('gives each island its own share: from where it runs, to its own nodes', async () => {
    const { planPlacement } = await import('./placement.ts');
    const manifest = voiceLoop(SETTING);
    const where: Record<string, string> = {
      mic: 'page',
      vad: 'worker',
      tts: 'gateway',
      speaker: 'page',
      transcript: 'page',
    };
    const plan = planPlacement(runner.prepare(manifest), (node) => where[node.id]!);
    const share = Object.fromEntries(plan.islands.map((i) => [i.key, i.manifest.bargeIn]));
    expect(share).toEqual({
      page: { to: ['speaker'] },
      worker: { from: 'vad', to: [] }, // sends the interrupt on, cancels nothing there
      gateway: { to: ['tts'] },
    });
    for (const island of plan.islands) expect(() => runner.prepare(island.manifest)).not.toThrow();
  });

  it('interrupts a to node of the island of from that it reaches only through another island', async () => {
    // The studio's voice loop: vad in the worker, stt on a gateway, reply in the
    // Python worker, tts back in the pipeline worker, speaker on the page.
    const { planPlacement } = await import('./placement.ts');
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'voice-loop' },
      nodes: [
        { id: 'vad', node_type: 'TestVad', params: {} },
        { id: 'stt', node_type: 'TestNamed', params: { name: 'stt' } },
        { id: 'reply', node_type: 'TestNamed', params: { name: 'reply' } },
        { id: 'tts', node_type: 'TestSynth', params: {} },
        { id: 'speaker', node_type: 'TestNamed', params: { name: 'speaker' } },
      ],
      connections: [
        { from: 'vad', to: 'stt' },
        { from: 'stt', to: 'reply' },
        { from: 'reply', to: 'tts' },
        { from: 'tts', to: 'speaker' },
      ],
      bargeIn: { from: 'vad', to: ['tts', 'speaker'] },
    };
    const where: Record<string, string> = {
      vad: 'worker',
      stt: 'gateway',
      reply: 'python',
      tts: 'worker',
      speaker: 'page',
    };
    const plan = planPlacement(runner.prepare(manifest), (node) => where[node.id]!);
    const share = Object.fromEntries(plan.islands.map((i) => [i.key, i.manifest.bargeIn]));
    expect(share).toEqual({
      worker: { from: 'vad', to: [], toAcross: ['tts'] },
      page: { to: ['speaker'] },
    });
    const worker = plan.islands.find((i) => i.key === 'worker')!.manifest;
    // Refused before: 'tts' is not downstream of 'vad' inside the island.
    for (const island of plan.islands) expect(() => runner.prepare(island.manifest)).not.toThrow();

    // At run time vad's trigger interrupts tts at once, while the reply's call runs.
    hooks.length = 0;
    const session = await runner.createStreamSession(worker);
    const sink = worker.nodes.find((n) => n.id.startsWith('tts__to_'))!.id;
    await session.sendInputTo('reply', RuntimeData.json('a long reply'));
    expect((await next(session, sink))?.data).toMatchObject({ value: { chunk: 0 } });
    await session.sendInputTo('vad', RuntimeData.json('barge'));
    expect(hooks).toEqual(['tts']);
    // Stale until the control comes back over the boundary (behind the old reply's data).
    await session.sendInputTo('reply', RuntimeData.json('stale, sent before the interrupt'));
    await session.sendInputTo('reply', RuntimeData.control('interrupt'));
    await session.sendInputTo('reply', RuntimeData.json('the next reply'));
    const rest: SessionOutput[] = [];
    const closing = session.close();
    for await (const output of session) {
      rest.push(output);
      release?.();
    }
    await closing;
    const said = rest
      .filter((o) => o.nodeId === sink && o.data.kind === 'json')
      .map((o) => (o.data as { value: JsonValue }).value);
    expect(said).toEqual([{ chunk: 0, of: 'the next reply' }, { chunk: 1 }, { chunk: 2 }]);
    const tts = (await session.metrics()).find((m) => m.nodeId === 'tts')!;
    expect(tts).toMatchObject({ interrupts: 1, droppedOnInterrupt: 2 });
  });

  it('an island reached by one interrupt through two boundaries interrupts once; a new one again', async () => {
    hooks.length = 0;
    const manifest = voiceLoop({ to: ['speaker'] });
    manifest.nodes[2]!.params = { block: false };
    const stamped = (t: number) => ({ ...RuntimeData.control('interrupt'), timestampUs: t });
    const outputs = await runner.executeBatch(manifest, [stamped(1), stamped(1), stamped(2)]);
    expect(hooks).toEqual(['speaker', 'speaker']);
    expect(outputs.filter((o) => o.kind === 'control')).toHaveLength(3 * 2); // all still flow
  });
});

/**
 * Several gateways behind nginx, for real: `remote-gateway/deploy/cluster.ts` (what
 * `npm run gateway:cluster` runs) starts 3 gateway processes and Debian's nginx on
 * loopback; clients reach them only through nginx's one URL. 60 resumable sessions
 * carry on across cut connections (each resume lands on the gateway holding its
 * session); kill -9 of a gateway mid-stream restarts each of its sessions that asked
 * for it (restartOnLoss) on another gateway, with a `restarted` event naming exactly
 * the frames lost, and ends each of the others with a worker_lost error naming it;
 * SIGTERM drains another without losing a session; SIGINT leaves no process behind.
 *
 * Sessions pause together at barriers, so the cut, the SIGTERM and the kill happen
 * mid-stream at known points without any timing in the assertions.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonData, type Manifest, RuntimeData } from '../web/core/internal.ts';
import { type RestartedEvent } from '../web/runtime/remote/gateway-connection.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { alive, GatewayFleet, NGINX } from './testing/gateway-fleet.ts';
import { nodeWebSocket, until } from './testing/loopback.ts';
import { startPython, testingScript } from './testing/python-client.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'cluster-token-0123456789';
const FRAMES = 120;
const pipeline: Manifest = {
  version: 'v1',
  metadata: { name: 'cluster' },
  nodes: [{ id: 'in', node_type: 'PassThrough', params: {} }],
  connections: [],
};

/** The fleet (what `npm run gateway:cluster` starts), each gateway with its /metrics. */
let fleet: GatewayFleet;

/** Every session waits here until the test releases them all. */
class Barrier {
  private arrived = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private allIn!: () => void;
  /** Resolves once `parties` have arrived. */
  readonly full: Promise<void>;
  constructor(private readonly parties: number) {
    this.full = new Promise<void>((resolve) => (this.allIn = resolve));
  }
  arrive(): Promise<void> {
    if (++this.arrived === this.parties) this.allIn();
    return this.released;
  }
  open(): void {
    this.release();
  }
}

interface Outcome {
  received: number[];
  restarts: RestartedEvent[];
  /** The gateway the session opened on. */
  gateway?: string;
  error?: unknown;
}

/**
 * One resumable session through `port`: FRAMES frames, pausing at each barrier
 * (at evenly spaced points); resolves with what came back, or the error.
 */
async function runSession(
  port: number,
  barriers: Barrier[],
  { reconnectWindowMs = 20_000, restartOnLoss = false } = {},
): Promise<Outcome> {
  const client = new RemoteProxyClient(
    { host: '127.0.0.1', port, reconnect: true },
    {
      token: TOKEN,
      WebSocket: nodeWebSocket,
      reconnectWindowMs,
      restartOnLoss,
    },
  );
  const outcome: Outcome = { received: [], restarts: [] };
  let session;
  try {
    session = await client.stream(pipeline);
  } catch (error) {
    // Every barrier still needs this party, or the others would wait forever.
    for (const barrier of barriers) void barrier.arrive();
    return { received: [], restarts: [], error };
  }
  session.on('restarted', (event) => outcome.restarts.push(event));
  const reading = (async () => {
    for await (const output of session) {
      outcome.received.push((output.data as JsonData).value as number);
    }
  })();
  const at = barriers.map((_, i) => Math.floor((FRAMES * (i + 1)) / (barriers.length + 1)));
  let passed = 0;
  try {
    for (let i = 1; i <= FRAMES; i++) {
      const b = at.indexOf(i - 1);
      if (b >= 0) {
        // Wait for what was sent to come back, so the pause is mid-stream, not mid-frame.
        while (outcome.received.length < i - 1) await new Promise((r) => setTimeout(r, 5));
        passed++;
        await barriers[b]!.arrive();
      }
      await session.sendInput(RuntimeData.json(i));
    }
    await session.close();
    await reading;
  } catch (error) {
    outcome.error = error;
    for (const barrier of barriers.slice(passed)) void barrier.arrive();
    await reading.catch(() => {});
  }
  return outcome;
}

const exact = Array.from({ length: FRAMES }, (_, i) => i + 1);

describe.skipIf(!existsSync(NGINX))('3 gateways behind nginx on loopback', () => {
  beforeAll(async () => {
    fleet = await GatewayFleet.start(3, [
      '--token',
      TOKEN,
      '--drain-timeout-ms',
      '60000',
      '--admin-port',
      '0',
    ]);
  }, 60_000);

  afterAll(() => fleet?.stop());

  it('the fleet answers through one URL, and each gateway by name', async () => {
    expect(fleet.members.map((m) => m.name)).toEqual(['g0', 'g1', 'g2']);
    for (const m of fleet.members) {
      const response = await fetch(`http://127.0.0.1:${fleet.port}/g/${m.name}/healthz`);
      expect(await response.json()).toMatchObject({ ok: true, gateway: m.name });
    }
  });

  it('60 resumable sessions across the 3 gateways carry on over two cut connections', async () => {
    const relay = await Relay.start(fleet.port);
    try {
      const sessions = 60;
      const cuts = [new Barrier(sessions), new Barrier(sessions)];
      // A cut connection is resumed, never restarted: nothing is lost.
      const runs = Array.from({ length: sessions }, () =>
        runSession(relay.port, cuts, { restartOnLoss: true }),
      );
      for (const [i, barrier] of cuts.entries()) {
        await barrier.full;
        if (i === 0) {
          // What the operator's Prometheus sees: each gateway by name, the fleet's
          // sessions adding up, each gateway's capacity beside them.
          let total = 0;
          for (const m of fleet.members) {
            const text = await (await fetch(m.metrics!)).text();
            expect(text).toContain(`remotemedia_gateway_info{name="${m.name}"} 1`);
            expect(text).toMatch(/remotemedia_capacity\{resource="sessions"\} \d+/);
            expect(text).toContain('remotemedia_draining 0');
            total += Number(/^remotemedia_sessions_active (\d+)$/m.exec(text)![1]);
          }
          expect(total).toBe(sessions);
        }
        // Spread over the fleet: a resume routed anywhere else would be refused.
        const spread = await fleet.sessions();
        expect(Object.values(spread).filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
        relay.cut();
        barrier.open();
      }
      const outcomes = await Promise.all(runs);
      for (const outcome of outcomes) {
        expect(outcome.error).toBeUndefined();
        expect(outcome.received).toEqual(exact);
        expect(outcome.restarts).toEqual([]);
      }
      // Closing the relay cuts whatever is still open: a session whose socket dropped
      // right after its `done` would be kept for resuming (until the idle timeout).
      await fleet.idle();
    } finally {
      await relay.close();
    }
  }, 120_000);

  it("the Python client's sessions resume on their own gateways too (?gateway=<name>)", async () => {
    await fleet.idle();
    const relay = await Relay.start(fleet.port);
    try {
      const sessions = 9;
      const frames = 90;
      const python = startPython([
        testingScript('python_cluster_client.py'),
        relay.port,
        TOKEN,
        sessions,
        frames,
        2,
      ]);
      // Every session paused mid-stream: cut all their connections, then let them go on.
      const spreads: Record<string, number>[] = [];
      for (let cut = 0; cut < 2; cut++) {
        await python.line(/^paused \d+$/m);
        spreads.push(await fleet.sessions());
        relay.cut();
        python.go();
      }
      const results = await python.result<
        {
          gateway: string;
          resumes: number;
          received: number[];
          error: string | null;
        }[]
      >();
      // Spread over the fleet, so a resume landing on another gateway would have failed.
      expect(new Set(results.map((r) => r.gateway)).size).toBeGreaterThanOrEqual(2);
      for (const spread of spreads) {
        expect(Object.values(spread).filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      }
      const every = Array.from({ length: frames }, (_, i) => i + 1);
      for (const result of results) {
        expect(result.error).toBeNull();
        expect(fleet.members.map((m) => m.name)).toContain(result.gateway);
        expect(result.resumes).toBeGreaterThanOrEqual(2);
        expect(result.received).toEqual(every);
      }
      await fleet.idle();
    } finally {
      await relay.close();
    }
  }, 120_000);

  it('kill -9 of a gateway mid-stream: of 60 sessions, each of its own restarts elsewhere naming exactly the frames lost, or ends with worker_lost naming it', async () => {
    await fleet.idle(); // the last test's sessions are gone from every count
    const sessions = 60;
    const pause = new Barrier(sessions);
    // Every other session asks for a restart; the rest keep the default (a clear error).
    const asks = (i: number) => i % 2 === 1;
    const runs = Array.from({ length: sessions }, (_, i) =>
      runSession(fleet.port, [pause], { reconnectWindowMs: 3000, restartOnLoss: asks(i) }),
    );
    await pause.full;
    const before = await fleet.sessions();
    const victim = fleet.members.find((m) => before[m.name]! > 0)!;
    // Released and killed in the same turn: its sessions are streaming when it dies.
    pause.open();
    const killed = fleet.kill(victim);
    const outcomes = await Promise.all(runs);
    await killed;
    const hit = outcomes
      .map((outcome, i) => ({ ...outcome, asked: asks(i) }))
      .filter((o) => o.error !== undefined || o.restarts.length > 0);
    expect(hit.length).toBe(before[victim.name]);
    expect(hit.some((o) => o.asked) && hit.some((o) => !o.asked)).toBe(true);
    let lostFrames = 0;
    for (const outcome of hit.filter((o) => !o.asked)) {
      expect(outcome.error).toMatchObject({ kind: 'worker_lost' });
      expect(String((outcome.error as Error).message)).toContain(`on gateway ${victim.name}`);
    }
    for (const outcome of hit.filter((o) => o.asked)) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.restarts).toHaveLength(1);
      const event = outcome.restarts[0]!;
      expect(event).toMatchObject({
        type: 'restarted',
        lostGateway: victim.name,
        nodesReset: ['in'],
        restarts: 1,
        sent: [{ port: 0, first: 1 }],
      });
      expect(fleet.members.map((m) => m.name)).toContain(event.gateway);
      expect(event.reason).toContain(`on gateway ${victim.name}`);
      // Exact: every frame either came back once or is named lost, never both.
      const lost = event.lost[0]!.frames;
      expect([...outcome.received, ...lost].sort((a, b) => a - b)).toEqual(exact);
      expect(event.received[0]).toBe(
        outcome.received.filter((frame) => frame <= event.sent[0]!.last).length,
      );
      lostFrames += lost.length;
    }
    // The stream went on: frames after the loss were answered by the new gateway.
    expect(hit.filter((o) => o.asked).every((o) => o.received.at(-1) === FRAMES)).toBe(true);
    console.log(
      `kill -9 ${victim.name}: ${hit.length} of ${sessions} sessions hit, ${hit.filter((o) => o.asked).length} restarted, ${lostFrames} frames lost in all`,
    );
    for (const outcome of outcomes.filter(
      (o) => o.error === undefined && o.restarts.length === 0,
    )) {
      expect(outcome.received).toEqual(exact);
    }
  }, 120_000);

  it('SIGTERM drains a gateway: its sessions finish, new sessions go to the others, it exits', async () => {
    await fleet.idle(); // the last test's sessions are gone from every count
    const sessions = 12;
    const pause = new Barrier(sessions);
    const runs = Array.from({ length: sessions }, () =>
      runSession(fleet.port, [pause], { restartOnLoss: true }),
    );
    await pause.full;
    const before = await fleet.sessions();
    const draining = fleet.members.find((m) => before[m.name]! > 0)!;
    const others = fleet.members.filter((m) => m !== draining);
    expect(before[draining.name]).toBeGreaterThan(0);
    const exited = fleet.terminate(draining);
    await until(async () => (await fleet.health(draining)).status === 503, 'draining: 503', 30_000);
    expect((await fleet.health(draining)).body).toMatchObject({
      ok: false,
      status: 'draining',
    });
    // New sessions while it drains: all opened, none on the draining gateway.
    const late = 6;
    const latePause = new Barrier(late);
    const lateRuns = Array.from({ length: late }, () => runSession(fleet.port, [latePause]));
    await latePause.full;
    const during = await fleet.sessions();
    expect(during[draining.name]).toBe(before[draining.name]);
    expect(others.reduce((sum, m) => sum + during[m.name]!, 0)).toBe(
      others.reduce((sum, m) => sum + before[m.name]!, 0) + late,
    );
    pause.open();
    latePause.open();
    for (const outcome of await Promise.all([...runs, ...lateRuns])) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.received).toEqual(exact);
      expect(outcome.restarts).toEqual([]); // drained, not lost
    }

    await exited; // it exits once its last session ended
  }, 120_000);

  it('SIGINT to the cluster stops nginx and every gateway', async () => {
    const pids = [fleet.nginxPid, ...fleet.members.map((m) => m.pid)];
    expect(pids.every(alive)).toBe(true);
    expect(await fleet.stop()).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});

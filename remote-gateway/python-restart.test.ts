/**
 * The Python client's restart_on_loss, for real: Debian's CPython runs 12 resumable
 * sessions (remote-gateway/testing/python_restart_client.py) through nginx in front
 * of 3 gateway processes (testing/gateway-fleet.ts, what `npm run gateway:cluster`
 * starts). Mid-stream the test stops one gateway (SIGSTOP: what is sent to it then
 * is in flight), lets each session send 10 more numbers, and kills it (SIGKILL).
 * Each of its sessions that asked for restart_on_loss carries on on another gateway
 * with one RestartedEvent naming exactly the numbers lost (received + lost = sent,
 * none twice); each of the others ends with a WorkerLostError naming the gateway;
 * the sessions elsewhere lose nothing. Through a TCP relay between two gateways
 * (testing/python_relay_client.py), the other ways a session is lost: a resume the
 * other gateway refuses, a drop without reconnect, and one loss more than
 * max_restarts allows. The scripts and the test take turns over stdin/stdout, so
 * nothing depends on timing; the timeout is a hang detector.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from './gateway.ts';
import { type GatewayFleet, GatewayFleet as Fleet, NGINX } from './testing/gateway-fleet.ts';
import { startLoopbackGateway } from './testing/loopback.ts';
import {
  type PythonError,
  type PythonRestart as Restart,
  startPython,
  testingScript,
} from './testing/python-client.ts';
import { Relay } from './testing/tcp-relay.ts';
import type { RestartedEvent } from '../web/runtime/remote/gateway-connection.ts';

const TOKEN = 'python-restart-token-0123456789';
const SESSIONS = 12;
const FRAMES = 120;
const ANSWERED = 40;
const INTO_STOPPED = 10;

/**
 * The TypeScript event's fields, checked by tsc against RestartedEvent (none
 * missing, none extra): Python's to_json() must give exactly these.
 */
const TS_FIELDS: Record<keyof RestartedEvent, true> = {
  type: true,
  reason: true,
  lostGateway: true,
  lostSessionId: true,
  gateway: true,
  sessionId: true,
  lost: true,
  sent: true,
  received: true,
  nodesReset: true,
  restarts: true,
};

/** What a script reports of one session. */
interface Outcome {
  received: number[];
  error: PythonError;
  restarts: Restart[];
}

/** A Python script of testing/ the test talks to over stdin/stdout. */
const script = (name: string, args: (string | number)[]) =>
  startPython([testingScript(name), ...args]);

/** Exact: every frame came back once or is named lost, never both, none missing. */
function expectExact(received: number[], restarts: Restart[], frames: number): void {
  expect(
    [...received, ...restarts.flatMap((r) => r.lost[0]!.frames)].sort((a, b) => a - b),
  ).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
}

describe.skipIf(!existsSync(NGINX))(
  'the Python client when its gateway dies (3 gateways behind nginx)',
  () => {
    let fleet: GatewayFleet;
    beforeAll(async () => {
      fleet = await Fleet.start(3, ['--token', TOKEN]);
    }, 60_000);
    afterAll(() => fleet?.stop());

    it('restart_on_loss sessions carry on elsewhere naming exactly the frames lost; the others end with WorkerLostError', async () => {
      const client = script('python_restart_client.py', [
        fleet.port,
        TOKEN,
        SESSIONS,
        FRAMES,
        ANSWERED,
        INTO_STOPPED,
      ]);
      // 1. Every session has its first 40 back: stop a gateway that holds both kinds.
      const placed = JSON.parse((await client.line(/^paused (.*)$/m))[1]!) as {
        gateway: string;
        restart: boolean;
      }[];
      const both = fleet.members.find(
        (m) =>
          placed.some((p) => p.gateway === m.name && p.restart) &&
          placed.some((p) => p.gateway === m.name && !p.restart),
      );
      expect(both, JSON.stringify(placed)).toBeDefined();
      const victim = both!;
      fleet.freeze(victim);
      client.go();
      // 2. Each session sent 10 more: the stopped gateway holds its sessions' unanswered.
      await client.line(/^sent$/m);
      await fleet.kill(victim);
      client.go();
      const results =
        await client.result<(Outcome & { gateway: string; restart: boolean; heard: number })[]>();

      const every = Array.from({ length: FRAMES }, (_, i) => i + 1);
      const hit = results.filter((r) => r.gateway === victim.name);
      expect(hit.length).toBe(placed.filter((p) => p.gateway === victim.name).length);
      for (const result of hit.filter((r) => !r.restart)) {
        expect(result.error).toMatchObject({ type: 'WorkerLostError', kind: 'worker_lost' });
        expect(result.error!.message).toContain(`gateway ${victim.name}`);
        expect(result.restarts).toEqual([]);
      }
      let lostFrames = 0;
      for (const result of hit.filter((r) => r.restart)) {
        expect(result.error).toBeNull();
        expect(result.restarts).toHaveLength(1);
        expect(result.heard).toBe(1);
        const event = result.restarts[0]!;
        expect(Object.keys(event).sort()).toEqual(Object.keys(TS_FIELDS).sort());
        expect(event).toMatchObject({
          type: 'restarted',
          lostGateway: victim.name,
          nodesReset: ['in'],
          received: [ANSWERED],
          restarts: 1,
        });
        expect(fleet.members.map((m) => m.name)).toContain(event.gateway);
        expect(event.reason).toContain(`gateway ${victim.name}`);
        expect(event.sent).toEqual([{ port: 0, first: 1, last: event.sent[0]!.last }]);
        // The 10 sent into the stopped gateway at least; none answered after the 40.
        expect(event.sent[0]!.last).toBeGreaterThanOrEqual(ANSWERED + INTO_STOPPED);
        const lost = event.lost[0]!.frames;
        expect(lost).toEqual(
          Array.from({ length: event.sent[0]!.last - ANSWERED }, (_, k) => ANSWERED + 1 + k),
        );
        expectExact(result.received, result.restarts, FRAMES);
        expect(result.received.at(-1)).toBe(FRAMES);
        lostFrames += lost.length;
      }
      for (const result of results.filter((r) => r.gateway !== victim.name)) {
        expect(result.error).toBeNull();
        expect(result.restarts).toEqual([]);
        expect(result.received).toEqual(every);
      }
      console.log(
        `kill -9 ${victim.name}: ${hit.length} of ${SESSIONS} Python sessions hit, ${hit.filter((r) => r.restart).length} restarted, ${lostFrames} frames lost in all; the others: ${hit.find((r) => !r.restart)!.error!.message}`,
      );
    }, 120_000);

    it('a gateway that stops answering (SIGSTOP, never killed) does not hold the session: it restarts elsewhere', async () => {
      await fleet.idle();
      // Straight to nginx: reconnect on, max_restarts 3, a pause before 21; more frames
      // than the credit window lets into the stopped gateway.
      const client = script('python_relay_client.py', [fleet.port, TOKEN, 150, 1, 3, '21']);
      await client.line(/^paused 21$/m);
      const stuck = await fleet.busy();
      fleet.freeze(stuck);
      client.go();
      // The connection stays up and silent: the client's liveness check finds it dead
      // (liveness_timeout_s, 8 s; websockets' own keepalive took about 40 s), its
      // resume to the stopped gateway gets no answer within
      // reconnect_window_s, and the restart opens on a live one. What the stopped one
      // took meanwhile (up to its credit) is lost; the rest goes to the new gateway.
      const { received, error, restarts } = await client.result<Outcome>();
      expect(error).toBeNull();
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatchObject({ lostGateway: stuck.name, received: [20] });
      expect(restarts[0]!.gateway).not.toBe(stuck.name);
      expect(restarts[0]!.reason).toMatch(/did not answer within/);
      const { first, last } = restarts[0]!.sent[0]!;
      expect(first).toBe(1);
      expect(restarts[0]!.lost[0]!.frames).toEqual(
        Array.from({ length: last - 20 }, (_, k) => 21 + k),
      );
      expect(last).toBeLessThan(150);
      expectExact(received, restarts, 150);
      expect(received.at(-1)).toBe(150);
    }, 120_000);
  },
);

describe('the Python client through a relay between two gateways', () => {
  let first: Gateway;
  let second: Gateway;
  beforeAll(async () => {
    first = await startLoopbackGateway(TOKEN, { name: 'first' });
    second = await startLoopbackGateway(TOKEN, { name: 'second' });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('a resume the other gateway refuses restarts there; one loss past max_restarts is a WorkerLostError', async () => {
    const relay = await Relay.start(first.port);
    try {
      // reconnect on, max_restarts 1, pauses before 31 and 61.
      const client = script('python_relay_client.py', [relay.port, TOKEN, 90, 1, 1, '31,61']);
      await client.line(/^paused 31$/m);
      relay.target = second.port; // the balancer's next pick, which never had the session
      relay.cut();
      client.go();
      await client.line(/^paused 61$/m);
      relay.target = first.port;
      relay.cut();
      client.go();
      const { received, error, restarts } = await client.result<Outcome>();
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatchObject({
        lostGateway: 'first',
        gateway: 'second',
        nodesReset: ['in'],
        received: [30],
        restarts: 1,
        sent: [{ port: 0, first: 1 }],
      });
      expect(restarts[0]!.reason).toMatch(/cannot be resumed/);
      // Up to 60 everything is accounted for; the second loss ended the session.
      expectExact(
        received.filter((n) => n <= 60),
        restarts,
        60,
      );
      expect(error).toMatchObject({ type: 'WorkerLostError', kind: 'worker_lost' });
      expect(error!.message).toContain(
        'not restarted: this session was restarted 1 times already (max_restarts 1)',
      );
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('without reconnect, a dropped connection restarts at once and the session carries on', async () => {
    const relay = await Relay.start(first.port);
    try {
      const client = script('python_relay_client.py', [relay.port, TOKEN, 60, 0, 3, '21']);
      await client.line(/^paused 21$/m);
      relay.target = second.port;
      relay.cut();
      client.go();
      const { received, error, restarts } = await client.result<Outcome>();
      expect(error).toBeNull();
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatchObject({
        lostGateway: 'first',
        gateway: 'second',
        received: [20],
      });
      expect(restarts[0]!.reason).toMatch(
        /^the gateway connection closed .* before the session ended \(session \S+ on gateway first at ws:/,
      );
      expectExact(received, restarts, 60);
      expect(received.at(-1)).toBe(60);
    } finally {
      await relay.close();
    }
  }, 60_000);
});

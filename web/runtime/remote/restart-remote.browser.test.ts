/**
 * A hybrid session survives the death of its gateway, for real: Chromium runs the
 * runtime (a node in the pipeline worker, one on the page), the middle node runs
 * on a fleet of gateway processes behind Debian's nginx (remote-gateway/deploy/,
 * started by tests/browser/gateway-cluster-commands.ts), and the gateway holding
 * the session is killed with SIGKILL mid-stream. With `restartOnLoss` the session
 * carries on on another gateway and its `restarted` event names exactly the
 * frames lost (received + lost = sent, none twice); without it the session ends
 * with a worker_lost error naming the gateway. Nothing waits on time: the test
 * waits for outputs, and its timeout is a hang detector.
 *
 * Then a gateway that stops answering but does not die: stopped with SIGSTOP and
 * left so, its TCP connection stays open and silent, and a browser has no WebSocket
 * ping to notice. The client's liveness check (livenessTimeoutMs; the gateway beats
 * on quiet intervals) takes the silence as a lost gateway: with restartOnLoss the
 * session carries on elsewhere, `restarted` naming exactly the frames lost; without
 * it the session ends with a worker_lost error naming the gateway.
 */
import { commands } from 'vitest/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JsonData,
  type Manifest,
  RemoteMediaError,
  RuntimeData,
} from '../../core/internal.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import type { RuntimeSession } from '../runtime-session.ts';
import type { RestartedEvent } from './gateway-connection.ts';
import type { Fleet } from '../../../tests/browser/gateway-cluster-commands.ts';

const TOKEN = 'restart-browser-token-0123456789';
const FRAMES = 120;
/** Frames answered before the gateway is stopped, then frames sent into the stopped one. */
const ANSWERED = 40;
const INTO_STOPPED = 10;
/** The liveness deadline of the sessions whose gateway is stopped and left so. */
const LIVENESS_MS = 2000;

/** worker (PassThrough) -> gateway (PassThrough) -> page (PassThrough): per-frame nodes. */
function hybrid(port: number, remote: Record<string, unknown> = {}): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'restart-hybrid' },
    nodes: [
      { id: 'pre', node_type: 'PassThrough', params: {}, executor: 'worker' },
      {
        id: 'far',
        node_type: 'PassThrough',
        params: {},
        remote: { host: '127.0.0.1', port, ...remote },
      },
      { id: 'post', node_type: 'PassThrough', params: {}, executor: 'main' },
    ],
    connections: [
      { from: 'pre', to: 'far' },
      { from: 'far', to: 'post' },
    ],
  };
}

/**
 * A fleet of 3 gateways behind nginx and a runtime whose token it accepts, for the
 * describe block that calls it (set up before its tests, stopped after them).
 */
function fleetAndRuntime(): { fleet: () => Fleet; runtime: () => Runtime } {
  let fleet: Fleet | undefined;
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    fleet = await commands.startGatewayFleet(3, TOKEN);
    runtime = await createRuntime({ gateway: { token: TOKEN } });
  }, 120_000);
  afterAll(async () => {
    runtime?.dispose();
    await commands.stopGatewayFleet();
  });
  return { fleet: () => fleet!, runtime: () => runtime! };
}

/**
 * One restart of the island from `lostGateway` to another: received + lost are
 * every frame exactly once (none twice, none missing), the lost ones those after
 * the ANSWERED the lost gateway answered, and the stream went on to the end.
 * Returns the frames lost.
 */
function expectRestartedExactly(
  event: RestartedEvent,
  lostGateway: string,
  received: number[],
): number[] {
  expect(event).toMatchObject({
    type: 'restarted',
    lostGateway,
    received: [ANSWERED],
    nodesReset: ['far'],
    restarts: 1,
  });
  expect(event.gateway).toMatch(/^g\d$/);
  expect(event.gateway).not.toBe(lostGateway);
  expect(event.sent).toEqual([{ port: 0, first: 1, last: event.sent[0]!.last }]);
  const lost = event.lost[0]!.frames;
  expect(lost).toEqual(
    Array.from({ length: event.sent[0]!.last - ANSWERED }, (_, k) => ANSWERED + 1 + k),
  );
  expect([...received, ...lost].sort((a, b) => a - b)).toEqual(
    Array.from({ length: FRAMES }, (_, k) => k + 1),
  );
  expect(received.at(-1)).toBe(FRAMES); // carried on to the end on the other gateway
  return lost;
}

/** Reads every output of `session` as it comes (the numbers sent), and hears its restarts. */
function follow(session: RuntimeSession) {
  const events: RestartedEvent[] = [];
  session.on('restarted', (event) => events.push(event));
  const received: number[] = [];
  const reading = (async () => {
    for await (const output of session) received.push((output.data as JsonData).value as number);
  })();
  return { events, received, reading };
}

/**
 * 20 frames answered, then `lose` loses the session's gateway (resolving with its
 * name), then frames until a send rejects with the session's error: that error and
 * the read's, once the read ended. Its end is taken at once, so the error arrives
 * while the test is elsewhere.
 */
async function loseAfter20(session: RuntimeSession, lose: () => Promise<string>) {
  const received: number[] = [];
  const readError = (async () => {
    for await (const output of session) received.push((output.data as JsonData).value as number);
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  for (let i = 1; i <= 20; i++) await session.sendInput(RuntimeData.json(i));
  await waitFor(() => received.length === 20);
  const gateway = await lose();
  // Sends go on until the loss reaches them: each then rejects with the session's error.
  let sendError: unknown;
  for (let i = 21; sendError === undefined; i++) {
    await session.sendInput(RuntimeData.json(i)).catch((error: unknown) => (sendError = error));
  }
  return { gateway, received, errors: [sendError, await readError] };
}

const waitFor = async (what: () => boolean | Promise<boolean>) => {
  while (!(await what())) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('a hybrid session whose gateway is killed (3 gateways behind nginx)', () => {
  const { fleet, runtime } = fleetAndRuntime();
  /** Every gateway left has no session: the next test's is the only one. */
  const fleetIdle = () => commands.gatewayFleetIdle();

  it('with restartOnLoss it carries on elsewhere; `restarted` names exactly the frames lost', async () => {
    await fleetIdle();
    // Resumes of a dead gateway fail (nginx: 502, which a browser cannot read) for
    // reconnectWindowMs; then the island is opened again through nginx.
    const heard: RestartedEvent[] = [];
    const session = await runtime().stream(hybrid(fleet().port, { reconnect: true }), {
      restartOnLoss: true,
      reconnectWindowMs: 1500,
      onRestarted: (event) => heard.push(event),
    });
    const { events, received, reading } = follow(session);
    let killed = '';
    for (let i = 1; i <= FRAMES; i++) {
      if (i === ANSWERED + 1) {
        await waitFor(() => received.length === ANSWERED);
        // Stopped, its socket still takes what is sent: those frames go nowhere.
        await commands.freezeBusyGateway();
      }
      if (i === ANSWERED + INTO_STOPPED + 1) killed = await commands.killBusyGateway();
      await session.sendInput(RuntimeData.json(i));
    }
    await session.close();
    await reading;

    expect(events).toHaveLength(1);
    expect(heard).toEqual(events);
    expect(session.restarts).toEqual(events);
    const event = events[0]!;
    expect(event.reason).toContain(`gateway ${killed}`);
    const lost = expectRestartedExactly(event, killed, received);
    console.log(
      `restart: lost ${lost.length} frames (${lost[0] ?? '-'}..${lost.at(-1) ?? '-'}) on ${killed}, carried on on ${event.gateway}`,
    );
  }, 90_000);

  it('without restartOnLoss it ends with a worker_lost error naming the gateway; nothing hangs', async () => {
    await fleetIdle();
    const session = await runtime().stream(hybrid(fleet().port));
    const {
      gateway: killed,
      received,
      errors,
    } = await loseAfter20(session, () => commands.killBusyGateway());
    for (const error of errors) {
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect((error as RemoteMediaError).kind).toBe('worker_lost');
      expect((error as Error).message).toContain(`on gateway ${killed}`);
    }
    expect(session.restarts).toEqual([]);
    expect(received).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(session.isActive()).toBe(false);
  }, 60_000);
});

describe('a hybrid session whose gateway is stopped and never killed (3 gateways behind nginx)', () => {
  // A fleet of its own: the one above lost a gateway.
  const { fleet, runtime } = fleetAndRuntime();

  it('with restartOnLoss: silence past livenessTimeoutMs restarts it elsewhere, `restarted` names the frames lost', async () => {
    await commands.gatewayFleetIdle();
    // Resumable too: the resume to the stopped gateway (nginx holds the upgrade,
    // nothing answers) is bounded by reconnectWindowMs, then the island restarts.
    const session = await runtime().stream(hybrid(fleet().port, { reconnect: true }), {
      restartOnLoss: true,
      reconnectWindowMs: 1500,
      livenessTimeoutMs: LIVENESS_MS,
    });
    const { events, received, reading } = follow(session);
    let stopped = '';
    for (let i = 1; i <= FRAMES; i++) {
      if (i === ANSWERED + 1) {
        await waitFor(() => received.length === ANSWERED);
        stopped = await commands.freezeBusyGateway(); // SIGSTOP, left so
      }
      // Frames after these wait for the loss to be noticed: they go to the new gateway.
      if (i === ANSWERED + INTO_STOPPED + 1) await waitFor(() => events.length === 1);
      await session.sendInput(RuntimeData.json(i));
    }
    await session.close();
    await reading;

    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.reason).toMatch(
      new RegExp(
        `the gateway sent nothing for \\d+ ms \\(livenessTimeoutMs ${LIVENESS_MS}\\).*on gateway ${stopped}`,
      ),
    );
    expect(event.sent[0]!.last).toBeLessThanOrEqual(ANSWERED + INTO_STOPPED);
    const lost = expectRestartedExactly(event, stopped, received);
    console.log(
      `liveness restart: ${stopped} stopped (not killed), lost ${lost.length} frames (${lost[0] ?? '-'}..${lost.at(-1) ?? '-'}), carried on on ${event.gateway}`,
    );
  }, 90_000);

  it('without restartOnLoss: a worker_lost error naming the stopped gateway; nothing hangs', async () => {
    await commands.gatewayFleetIdle();
    const started = performance.now();
    const session = await runtime().stream(hybrid(fleet().port), {
      livenessTimeoutMs: LIVENESS_MS,
    });
    let stoppedAt = 0;
    const {
      gateway: stopped,
      received,
      errors,
    } = await loseAfter20(session, async () => {
      const name = await commands.freezeBusyGateway();
      stoppedAt = performance.now();
      return name;
    });
    const noticedMs = performance.now() - stoppedAt;
    for (const failure of errors) {
      expect(failure).toBeInstanceOf(RemoteMediaError);
      expect((failure as RemoteMediaError).kind).toBe('worker_lost');
      expect((failure as Error).message).toContain(`on gateway ${stopped}`);
      expect((failure as Error).message).toContain(`(livenessTimeoutMs ${LIVENESS_MS})`);
    }
    expect(received).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(session.isActive()).toBe(false);
    console.log(
      `liveness: stopped ${stopped} noticed ${Math.round(noticedMs)} ms after SIGSTOP (deadline ${LIVENESS_MS} ms; session ${Math.round(performance.now() - started)} ms)`,
    );
  }, 60_000);
});

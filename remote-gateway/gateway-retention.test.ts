/**
 * What a gateway keeps once its sessions are over: nothing. Rounds of real sessions
 * (real ws clients on loopback, Gain on 20 ms frames, as the capacity benchmark runs
 * them) open, stream and close; after them the gateway's counts are back to empty and
 * no object of an ended session is alive: V8's own count of live instances (after a
 * full GC, v8.queryObjects) of the gateway's session, the pipeline session, its node
 * metrics and inboxes, and the WebSockets, is 0, where it counted the sessions still
 * running while the round ran. bench/gateway-heap.ts measures the heap over the benchmark's
 * windows the same way (flat after each).
 */
import { queryObjects } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Manifest, PipelineSession, RuntimeData } from '../web/core/internal.ts';
import { NodeInbox } from '../web/core/node-inbox.ts';
import { NodeMetrics } from '../web/core/node-metrics.ts';
import type { Gateway } from './gateway.ts';
import { GatewaySession } from './gateway-session.ts';
import { creditSession } from './testing/credit-client.ts';
import { startLoopbackGateway, until } from './testing/loopback.ts';
import { islandOf } from './testing/raw-client.ts';

const TOKEN = 'retention-token-0123456789abcdef';
const SESSIONS = 40;
const FRAMES = 60;
const ROUNDS = 3;
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'retention' },
  nodes: [{ id: 'gain', node_type: 'Gain', params: { gain_db: -6 } }],
  connections: [],
};
const audio = RuntimeData.audio(new Float32Array(960).fill(0.25), 48000, 1);

/** Live instances of each class, after the full GC queryObjects runs first. */
function live() {
  // A class (some with private constructors): what queryObjects counts instances of.
  const count = (type: { prototype: object }) => queryObjects(type as never) as unknown as number;
  return {
    gatewaySessions: count(GatewaySession),
    pipelineSessions: count(PipelineSession),
    nodeMetrics: count(NodeMetrics),
    nodeInboxes: count(NodeInbox),
    webSockets: count(WebSocket),
  };
}

describe('gateway retention', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startLoopbackGateway(TOKEN, {
      maxSessionsPerClient: 1000,
      maxConnectionsPerAddress: 1000,
    });
  });
  afterAll(() => gateway.close());

  /** One round: SESSIONS sessions at once, each FRAMES frames then `end`; counts while all are open. */
  async function round(): Promise<ReturnType<typeof live> | undefined> {
    let whileOpen: ReturnType<typeof live> | undefined;
    let opened = 0;
    const results = await Promise.all(
      Array.from({ length: SESSIONS }, () =>
        creditSession({
          url: gateway.url,
          token: TOKEN,
          island: islandOf(manifest, 'gain', 'gain'),
          maxMessageSize: 1 << 20,
          frames: FRAMES,
          frameOf: () => audio,
          collect: (frame) => frame.sequence,
          onMessage: (_ws, count) => {
            // When the last session hears first from the gateway, many are still open.
            if (count === 1 && ++opened === SESSIONS) whileOpen = live();
            return undefined;
          },
        }),
      ),
    );
    for (const result of results) {
      expect(result.problems).toEqual([]);
      expect(result.why).toBe('done');
      expect(result.got).toHaveLength(FRAMES);
    }
    await until(
      () => gateway.metrics.sessionsActive === 0 && gateway.connections.connections === 0,
      'every session and connection of the round ended',
    );
    return whileOpen;
  }

  it('keeps no object of sessions that ended: counts empty, no session, pipeline or socket alive', async () => {
    const whileOpen = await round();
    for (let i = 1; i < ROUNDS; i++) await round();
    // Sockets close and timers are cleared on the turns after the last message: count
    // until they have (no fixed wait, which a loaded machine can outlast), for at most
    // 10 s; kept objects never go, and the last count is what the assertion shows.
    let after = live();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; after = live()) {
      if (Object.values(after).every((count) => count === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const health = (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as {
      sessions: number;
    };
    expect(health.sessions).toBe(0);
    expect(gateway.metrics.sessionsActive).toBe(0);
    expect(gateway.metrics.sessionsTotal).toBe(ROUNDS * SESSIONS);
    // The count sees sessions while they run (the first have ended by the time the
    // last open; each is one GatewaySession, a pipeline with its node's metrics and
    // inbox, and a socket at each end).
    expect(whileOpen?.gatewaySessions).toBeGreaterThan(0);
    expect(whileOpen?.pipelineSessions).toBeGreaterThan(0);
    expect(whileOpen?.nodeMetrics).toBeGreaterThan(0);
    expect(whileOpen?.nodeInboxes).toBeGreaterThan(0);
    expect(whileOpen?.webSockets).toBeGreaterThan(0);
    expect(after).toEqual({
      gatewaySessions: 0,
      pipelineSessions: 0,
      nodeMetrics: 0,
      nodeInboxes: 0,
      webSockets: 0,
    });
  });
});

/**
 * A protocol-aware, stateful fuzz of the gateway: several concurrent connections,
 * each running episodes of valid and mutated open / data / credit / end / close /
 * resume / metrics / ack / interrupt messages (and raw garbage; islands with valid
 * and invalid bargeIn settings; interrupt controls in band, alone and in floods of
 * thousands), from a seeded PRNG that keeps
 * track of each session's numbering, ports, session id and resume key — so that it
 * reaches the states random bytes never do (a port ended, then data on it; a close,
 * then more; a resume with the wrong key or count; credit ignored; parts on the
 * wrong port). A third of the episodes are careful: valid messages, then one fault,
 * so that states deep in a session are reached too; the test checks that each state
 * of STATES was. Afterwards a well-behaved client still gets correct results, the
 * last-resort handler never ran, every session ended and memory is bounded.
 *
 * Bounded to REMOTEMEDIA_FUZZ_MS (default 60 s; `npm run fuzz` runs 10 minutes);
 * REMOTEMEDIA_FUZZ_SEED picks another sequence. A failure prints the seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import {
  encodeFrame,
  GATEWAY_MORE_PARTS,
  GATEWAY_PORT_MASK,
  GATEWAY_PROTOCOL_VERSION,
  type Manifest,
  packFrame,
  RuntimeData,
  type RemoteIslandSpec,
} from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { installLastResort } from './last-resort.ts';
import { RawClient, type Received, rssMiB } from './testing/raw-client.ts';

const FUZZ_MS = Number(process.env.REMOTEMEDIA_FUZZ_MS ?? 60_000);
const SEED = Number(process.env.REMOTEMEDIA_FUZZ_SEED ?? 0x5eed);
const CONNECTIONS = 4;
const TOKEN = 'fuzz-token-0123456789';

/** mulberry32: small, fast, and the same sequence on every machine. */
class Rand {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Picks a key by weight. */
  weighted<K extends string>(weights: Partial<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) if ((roll -= weight) < 0) return key;
    return entries[0]![0];
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

const PY_SOURCE =
  'from remotemedia import Node\nclass AddOne(Node):\n    def process(self, data):\n        return data + 1\n';
const python: Manifest = {
  version: 'v1',
  metadata: { name: 'fuzz-python' },
  nodes: [{ id: 'py', node_type: 'PythonNode', params: { source: PY_SOURCE } }],
  connections: [],
};
const calc = calculator as Manifest;
/** A generator node that barge-in interrupts (its calls stream "more" responses). */
const PY_STREAM =
  'import time\nfrom remotemedia import Node\nclass Chunks(Node):\n    def process(self, data):\n        for i in range(3):\n            yield i\n            time.sleep(0.005)\n';
const pythonStream: Manifest = {
  version: 'v1',
  metadata: { name: 'fuzz-python-stream' },
  nodes: [{ id: 'py', node_type: 'PythonNode', params: { source: PY_STREAM } }],
  connections: [],
  bargeIn: { to: ['py'] },
};
const calcWith = (bargeIn: unknown) => ({ ...calc, bargeIn }) as Manifest;
const calcIsland = (manifest: Manifest): RemoteIslandSpec => ({
  manifest,
  inputs: [{ sources: ['pass1'] }],
  outputs: [{ sink: 'pass2' }],
});

/** Islands an episode may ask for: valid ones, two ports on one source, a wrong source or sink. */
const ISLANDS: { weight: number; island: RemoteIslandSpec }[] = [
  {
    weight: 10,
    island: { manifest: calc, inputs: [{ sources: ['pass1'] }], outputs: [{ sink: 'pass2' }] },
  },
  {
    weight: 3,
    island: {
      manifest: calc,
      inputs: [{ sources: ['pass1'] }, { sources: ['pass1'] }],
      outputs: [{ sink: 'pass2' }],
    },
  },
  // Barge-in (an interrupt given as input interrupts calc and pass2): careful episodes too.
  { weight: 4, island: calcIsland(calcWith({ to: ['calc', 'pass2'] })) },
  {
    weight: 1,
    island: { manifest: calc, inputs: [{ sources: ['pass1'] }], outputs: [{ sink: 'calc' }] },
  },
  {
    weight: 1,
    island: { manifest: calc, inputs: [{ sources: ['nope'] }], outputs: [{ sink: 'pass2' }] },
  },
  // Barge-in: valid (an interrupt given as input, or emitted by pass1), then invalid:
  // a node interrupting itself, one upstream, one of another island, none at all.
  {
    weight: 1,
    island: {
      manifest: python,
      inputs: [{ sources: ['py'] }],
      outputs: [{ sink: 'py' }],
    },
  },
  {
    weight: 2,
    island: { manifest: pythonStream, inputs: [{ sources: ['py'] }], outputs: [{ sink: 'py' }] },
  },
  { weight: 1, island: calcIsland(calcWith({ from: 'pass1', to: ['calc'] })) },
  { weight: 0.5, island: calcIsland(calcWith({ from: 'pass2', to: ['pass2'] })) },
  { weight: 0.5, island: calcIsland(calcWith({ from: 'calc', to: ['pass1'] })) },
  { weight: 0.5, island: calcIsland(calcWith({ to: ['tts'] })) },
  { weight: 0.5, island: calcIsland(calcWith({ to: [] })) },
];

/** Values that break a field's type or range. */
function wrongValue(r: Rand): unknown {
  return r.pick([
    null,
    -1,
    1.5,
    2 ** 53,
    Number.MAX_VALUE,
    '',
    'x'.repeat(r.int(300)),
    [],
    [1, 2, 3],
    {},
    { type: 'open' },
    true,
    '0',
    0,
    32768,
    65535,
  ]);
}

/** A valid-looking control message with one thing wrong (or left as it is). */
function mutate(r: Rand, message: Record<string, unknown>): Record<string, unknown> {
  const out = { ...message };
  const keys = Object.keys(out);
  switch (r.int(5)) {
    case 0:
      delete out[r.pick(keys)];
      break;
    case 1:
      out[r.pick(keys)] = wrongValue(r);
      break;
    case 2:
      out.type = r.pick([
        'open',
        'opened',
        'resume',
        'resumed',
        'credit',
        'metrics',
        'ack',
        'end',
        'close',
        'done',
        'error',
        'interrupt',
        'bogus',
      ]);
      break;
    case 3:
      out[r.pick(['extra', '__proto__', 'constructor', 'seq', 'port'])] = wrongValue(r);
      break;
    default:
      break;
  }
  return out;
}

function dataOf(r: Rand) {
  switch (r.int(6)) {
    case 4: {
      // Barge-in in band, sometimes stamped (a stamp names the interrupt: it acts once).
      const marker = RuntimeData.control('interrupt');
      if (r.chance(0.5)) marker.timestampUs = r.int(5);
      return marker;
    }
    case 0:
      return RuntimeData.text('t'.repeat(r.int(100)));
    case 1:
      return RuntimeData.binary(r.bytes(r.int(2000)));
    case 2:
      return RuntimeData.audio(new Float32Array(r.int(800)), 16000);
    default:
      return RuntimeData.json(r.int(100));
  }
}

/**
 * States only a protocol-aware sequence reaches, named by how the gateway answers
 * them: the fuzz must get to each (a fuzz that does not is not testing them).
 */
const STATES: Record<string, RegExp> = {
  'data after end': /after its 'end'/,
  'anything after close': /after 'close'/,
  'credit ignored': /beyond the credit granted/,
  'a gap in the numbering': /arrived after \d+: \d+ lost/,
  'too many parts': /in over \d+ parts/,
  'a port the session lacks': /this session has (ports|\d+)/,
  'a server message from the client': /is not a client message/,
  'a schema violation': /invalid '\w+' message/,
  'an ack of what was never sent': /only \d+ were sent/,
  'a wrong resume': /cannot be resumed/,
  'an interrupt on a port the session lacks': /'interrupt' on input port/,
  'an invalid bargeIn': /bargeIn\.(to|from)/,
};

interface Stats {
  episodes: number;
  messages: number;
  closes: Map<number, number>;
  errorKinds: Map<string, number>;
  /** How often each protocol state of STATES was reached (by the gateway's answer). */
  reached: Map<string, number>;
  resumes: number;
}

/** The one fault a careful episode ends with, after a valid stretch. */
const ATTACKS = [
  'tiny parts',
  'burst',
  'end then data',
  'close then data',
  'gap',
  'ack',
  'interrupt flood',
  'interrupt on a wrong port',
] as const;

/**
 * One session's life as a hostile or careless client lives it. A careful episode
 * (a third) sends only valid messages, then one fault from ATTACKS: it reaches the
 * states deep in a session that an episode of random faults dies before.
 */
async function episode(r: Rand, url: string, stats: Stats): Promise<void> {
  const careful = r.chance(0.35);
  let roll = r.next() * ISLANDS.reduce((sum, i) => sum + i.weight, 0);
  const { island } = careful
    ? ISLANDS[r.int(3)]!
    : (ISLANDS.find((i) => (roll -= i.weight) < 0) ?? ISLANDS[0]!);
  const ports = island.inputs.length;
  let raw = await RawClient.connect(url);
  const clients = [raw];
  const send = (message: unknown) => {
    stats.messages++;
    raw.send(message);
  };
  const sendBinary = (bytes: Uint8Array) => {
    stats.messages++;
    raw.sendBinary(bytes);
  };
  const resumable = r.chance(0.4);
  const open = {
    type: 'open',
    version: GATEWAY_PROTOCOL_VERSION,
    token: TOKEN,
    island,
    resume: resumable,
    ...(r.chance(0.3) ? { maxMessageSize: r.pick([3, 64, 4096, 1 << 20]) } : {}),
  };
  send(careful || r.chance(0.85) ? open : mutate(r, open));
  let sessionId = '';
  let resumeKey = '';
  const first = await raw.waitFor((m) => m.kind === 'control');
  if (first?.kind === 'control' && first.message.type === 'opened') {
    sessionId = String(first.message.sessionId);
    resumeKey = String(first.message.resumeKey ?? '');
  }
  let seq = 0;
  /** The client's next number, usually right. */
  const nextSeq = () =>
    careful || r.chance(0.95) ? ++seq : r.pick([seq, seq + 2, 0, -1, 2 ** 31, seq + 1000]);
  /** The last number received from the gateway on this connection. */
  const received = () => {
    let last = 0;
    for (const item of raw.received) {
      const n =
        item.kind === 'frame' ? item.sequence : Number((item.message as { seq?: number }).seq ?? 0);
      if (n > last) last = n;
    }
    return last;
  };
  const port = () => (careful || r.chance(0.92) ? r.int(ports) : r.pick([ports, 7, 32767, -1]));
  const steps = 1 + r.int(60);
  for (let step = 0; step < steps; step++) {
    const action = r.weighted(
      careful
        ? { data: 30, metrics: 3, pause: 3, interrupt: 2 }
        : {
            data: 30,
            burst: 3,
            parts: 5,
            corrupt: 4,
            end: 7,
            close: 5,
            ack: 5,
            metrics: 5,
            interrupt: 5,
            credit: 2,
            reopen: 1,
            resume: 5,
            garbage: 4,
            mutated: 8,
            pause: 6,
            quit: 1,
          },
    );
    if (action === 'quit') break;
    switch (action) {
      case 'data': {
        const data = careful ? RuntimeData.json(r.int(100)) : dataOf(r);
        const frame = encodeFrame({ sequence: Math.max(0, nextSeq()) >>> 0, data });
        const p = port();
        for (const part of packFrame(Math.max(0, p) & GATEWAY_PORT_MASK, frame, 1 << 20))
          sendBinary(part);
        break;
      }
      case 'burst': {
        // Credit ignored: more frames at once than the window allows.
        const p = r.int(ports);
        for (let i = 0, n = 20 + r.int(100); i < n; i++) {
          const frame = encodeFrame({ sequence: ++seq, data: RuntimeData.json(i) });
          for (const part of packFrame(p, frame, 1 << 20)) sendBinary(part);
        }
        break;
      }
      case 'parts': {
        // A frame in small parts; sometimes left unfinished, sometimes interleaved.
        const frame = encodeFrame({ sequence: nextSeq() >>> 0, data: dataOf(r) });
        const parts = packFrame(r.int(ports), frame, 3 + r.int(60));
        const cut = r.chance(0.3) ? r.int(parts.length) : parts.length;
        for (const part of parts.slice(0, cut)) sendBinary(part);
        // Tiny parts of one frame, sometimes past the part cap (4096).
        if (r.chance(0.2)) {
          const tiny = r.chance(0.3) ? 5000 : 500;
          for (let i = 0; i < tiny; i++) sendBinary(Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1));
          // Give the gateway the time to answer before the episode may cut the connection.
          await Promise.race([
            raw.waitFor((m) => m.kind === 'control', raw.received.length),
            new Promise((resolve) => setTimeout(resolve, 2000)),
          ]);
        }
        break;
      }
      case 'corrupt': {
        const frame = encodeFrame({ sequence: nextSeq() >>> 0, data: dataOf(r) });
        const message = new Uint8Array(frame.length + 2);
        message.set(frame, 2);
        message[0] = r.int(ports);
        if (r.chance(0.5)) message[2 + r.int(frame.length)]! ^= 1 << r.int(8);
        sendBinary(r.chance(0.3) ? message.subarray(0, 2 + r.int(frame.length)) : message);
        if (r.chance(0.2))
          sendBinary(Uint8Array.of(r.int(256), r.int(256) | (GATEWAY_MORE_PARTS >> 8)));
        break;
      }
      case 'end':
        send(
          r.chance(0.85)
            ? { type: 'end', port: port(), seq: nextSeq() }
            : mutate(r, { type: 'end', port: port(), seq: nextSeq() }),
        );
        break;
      case 'close':
        send(
          r.chance(0.85)
            ? { type: 'close', seq: nextSeq() }
            : mutate(r, { type: 'close', seq: nextSeq() }),
        );
        break;
      case 'ack': {
        const seen = received();
        send({ type: 'ack', seq: r.pick([seen, seen + 1, 0, 2 ** 40, Math.max(0, seen - 3)]) });
        break;
      }
      case 'metrics':
        send(
          r.chance(0.9)
            ? { type: 'metrics', id: r.int(1000) }
            : mutate(r, { type: 'metrics', id: 1 }),
        );
        break;
      case 'interrupt': {
        // Barge-in out of band: alone, stamped or not, in floods, mutated; a careful
        // client sends its frame in band after it, as gateway-connection.ts does.
        const stamp = r.chance(0.5) ? { timestampUs: r.int(1e6) } : {};
        const wrongPort = !careful && r.chance(0.2);
        const message = {
          type: 'interrupt',
          port: wrongPort ? ports + r.int(3) : port(),
          ...stamp,
        };
        const times = !careful && r.chance(0.2) ? 200 + r.int(2000) : 1;
        for (let i = 0; i < times; i++)
          send(careful || r.chance(0.9) ? message : mutate(r, message));
        if (careful || r.chance(0.5)) {
          const marker = RuntimeData.control('interrupt');
          if ('timestampUs' in stamp) marker.timestampUs = stamp.timestampUs;
          const frame = encodeFrame({ sequence: Math.max(0, nextSeq()) >>> 0, data: marker });
          for (const part of packFrame(r.int(ports), frame, 1 << 20)) sendBinary(part);
        }
        break;
      }
      case 'credit':
        send({ type: 'credit', port: port(), frames: r.int(1000) });
        break;
      case 'reopen':
        send(open);
        break;
      case 'resume': {
        // Come back on a new connection, sometimes after cutting the old one.
        if (r.chance(0.5)) raw.terminate();
        const message = {
          type: 'resume',
          version: GATEWAY_PROTOCOL_VERSION,
          token: TOKEN,
          sessionId: r.chance(0.9) ? sessionId : 'gw-nope',
          resumeKey: r.chance(0.85) ? resumeKey : 'x'.repeat(resumeKey.length),
          received: r.chance(0.85) ? received() : r.pick([received() + 5, 2 ** 40, 0]),
        };
        raw = await RawClient.connect(url);
        clients.push(raw);
        stats.resumes++;
        send(r.chance(0.85) ? message : mutate(r, message));
        if (r.chance(0.7)) await raw.waitFor((m) => m.kind === 'control');
        break;
      }
      case 'garbage':
        if (r.chance(0.5)) sendBinary(r.bytes(1 + r.int(64)));
        else send(r.pick(['', '{', 'null', '[]', '"open"', '{"type":1}', String(r.next())]));
        break;
      case 'mutated':
        send(
          mutate(
            r,
            r.pick([
              { type: 'end', port: 0, seq: seq + 1 },
              { type: 'close', seq: seq + 1 },
              { type: 'ack', seq: 1 },
              { type: 'metrics', id: 3 },
              { type: 'credit', port: 0, frames: 32 },
              { type: 'done', seq: seq + 1 },
              { type: 'error', error: { kind: 'protocol', message: 'x' }, seq: seq + 1 },
              { type: 'opened', sessionId, maxMessageSize: 100 },
              { type: 'resumed', maxMessageSize: 100, received: 0, taken: [0] },
            ]),
          ),
        );
        break;
      case 'pause':
        if (r.chance(0.5)) await new Promise((resolve) => setTimeout(resolve, r.int(20)));
        else await raw.waitFor((m) => m.kind === 'control', raw.received.length);
        break;
    }
    if (!raw.open && r.chance(0.5)) break;
  }
  if (careful && raw.open) {
    const from = raw.received.length;
    const frameTo = (p: number, sequence: number) => {
      for (const part of packFrame(
        p,
        encodeFrame({ sequence, data: RuntimeData.json(1) }),
        1 << 20,
      )) {
        sendBinary(part);
      }
    };
    let answer: (m: Received) => boolean = (m) =>
      m.kind === 'control' && m.message.type === 'error';
    switch (r.pick(ATTACKS)) {
      case 'tiny parts':
        for (let i = 0; i < 5000; i++) sendBinary(Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1));
        break;
      case 'burst':
        for (let i = 0; i < 150; i++) frameTo(0, ++seq);
        break;
      case 'end then data':
        send({ type: 'end', port: 0, seq: ++seq });
        frameTo(0, ++seq);
        break;
      case 'close then data':
        send({ type: 'close', seq: ++seq });
        frameTo(0, ++seq);
        break;
      case 'gap':
        frameTo(0, seq + 2);
        break;
      case 'ack':
        send({ type: 'ack', seq: received() + 1000 });
        break;
      case 'interrupt flood':
        // Valid, and each one acts (no stamp): it must cost neither a queue nor a
        // runner cancel per interrupt; the metrics answer shows they were taken.
        for (let i = 0; i < 3000; i++) send({ type: 'interrupt', port: 0 });
        send({ type: 'metrics', id: 4242 });
        answer = (m) => m.kind === 'control' && ['metrics', 'error'].includes(m.message.type);
        break;
      case 'interrupt on a wrong port':
        send({ type: 'interrupt', port: ports, timestampUs: 1 });
        break;
    }
    // Let the gateway answer before the episode ends the connection.
    await Promise.race([
      raw.waitFor(answer, from),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ]);
  }
  // The end: a clean close, a cut, or waiting (a while) for the gateway to end it.
  const how = r.int(3);
  if (how === 0) for (const c of clients) c.ws.close(1000);
  else if (how === 1) for (const c of clients) c.terminate();
  else {
    await Promise.race([raw.closing, new Promise((resolve) => setTimeout(resolve, 300))]);
    for (const c of clients) c.terminate();
  }
  for (const c of clients) {
    const code = await c.closing;
    stats.closes.set(code, (stats.closes.get(code) ?? 0) + 1);
    for (const item of c.received) {
      if (item.kind === 'control' && item.message.type === 'error') {
        const error = item.message.error as { kind?: string; message?: string };
        const kind = String(error?.kind);
        stats.errorKinds.set(kind, (stats.errorKinds.get(kind) ?? 0) + 1);
        for (const [state, pattern] of Object.entries(STATES)) {
          if (pattern.test(String(error?.message))) {
            stats.reached.set(state, (stats.reached.get(state) ?? 0) + 1);
          }
        }
      } else if (item.kind === 'control' && item.message.type === 'resumed') {
        stats.reached.set('resumed', (stats.reached.get('resumed') ?? 0) + 1);
      } else if (item.kind === 'control' && item.message.type === 'metrics') {
        // An interrupt reached a node of bargeIn.to (its metrics count it).
        const nodes = (item.message.nodes ?? []) as { interrupts?: number }[];
        if (nodes.some((n) => (n.interrupts ?? 0) > 0)) {
          stats.reached.set('interrupted', (stats.reached.get('interrupted') ?? 0) + 1);
        }
      }
    }
  }
  stats.episodes++;
}

let gateway: Gateway;
let uninstall: () => void;

beforeAll(async () => {
  // Generous connection limits: one address plays every client here; a short idle
  // timeout collects the sessions left detached by cuts.
  const generous = {
    maxSessionsPerClient: 1000,
    maxSessionsPerToken: 1000,
    maxAuthFailuresPerAddress: 1e9,
    maxConnectionsPerAddress: 10_000,
  };
  gateway = await startGateway({
    port: 0,
    tokens: [TOKEN],
    idleTimeoutMs: 1500,
    containers: false,
    ...generous,
  });
  uninstall = installLastResort(gateway.metrics, (event, error) =>
    console.error(`fuzz seed ${SEED}: ${event}`, error),
  );
});
afterAll(async () => {
  uninstall?.();
  await gateway?.close();
});

describe('the gateway under a stateful protocol fuzz', () => {
  it(
    `survives ${FUZZ_MS / 1000} s of valid and mutated message sequences on ${CONNECTIONS} connections (seed ${SEED})`,
    async () => {
      const before = rssMiB();
      const stats: Stats = {
        episodes: 0,
        messages: 0,
        closes: new Map(),
        errorKinds: new Map(),
        reached: new Map(),
        resumes: 0,
      };
      const deadline = Date.now() + FUZZ_MS;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, lane) => {
          const r = new Rand(SEED * 31 + lane);
          while (Date.now() < deadline) await episode(r, gateway.url, stats);
        }),
      );
      console.log(
        `fuzz seed ${SEED}: ${stats.episodes} episodes, ${stats.messages} messages, ${stats.resumes} resumes; ` +
          `closes ${JSON.stringify([...stats.closes])}; errors ${JSON.stringify([...stats.errorKinds])}; ` +
          `states ${JSON.stringify([...stats.reached])}; runner cancels ${JSON.stringify(gateway.python.cancels)}`,
      );
      expect(stats.episodes).toBeGreaterThan(10);
      expect([...stats.reached.keys()].sort()).toEqual(
        [...Object.keys(STATES), 'resumed', 'interrupted'].sort(),
      );
      expect(gateway.metrics.unhandled).toBe(0);

      // Every session ends (detached ones at the idle timeout): nothing is left behind.
      while (gateway.metrics.sessionsActive > 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // A well-behaved client still gets correct results, plain and resumable, JS and CPython.
      const options = {
        token: TOKEN,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      };
      for (const reconnect of [false, true]) {
        const client = new RemoteProxyClient(
          { host: '127.0.0.1', port: gateway.port, reconnect },
          options,
        );
        const outputs = await client.run(
          calc,
          [1, 2, 3].map((v) => RuntimeData.json(v)),
        );
        expect(outputs.map((o) => o.data)).toEqual([6, 7, 8].map((v) => RuntimeData.json(v)));
        expect(await client.execute(python, RuntimeData.json(41))).toEqual(RuntimeData.json(42));
      }
      expect(gateway.metrics.unhandled).toBe(0);
      expect(rssMiB() - before).toBeLessThan(400);
    },
    FUZZ_MS + 120_000,
  );
});

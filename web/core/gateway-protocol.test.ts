import { describe, expect, it } from 'vitest';
import {
  FrameAssembler,
  GATEWAY_HEARTBEAT_MAX_MS,
  GATEWAY_HEARTBEAT_MIN_MS,
  GATEWAY_HEARTBEAT_TEXT,
  GATEWAY_MORE_PARTS,
  gatewayMessageSchemas,
  packFrame,
  PART_CHARGE_BYTES,
  parseGatewayMessage,
  parseRemoteIsland,
} from './gateway-protocol.ts';

const VALID: Record<keyof typeof gatewayMessageSchemas, unknown> = {
  open: { type: 'open', version: 2, token: 't', island: {}, maxMessageSize: 4096, resume: true },
  opened: { type: 'opened', sessionId: 's', maxMessageSize: 4096, resumeKey: 'k' },
  resume: { type: 'resume', version: 2, sessionId: 's', resumeKey: 'k', received: 3 },
  resumed: { type: 'resumed', maxMessageSize: 4096, received: 2, taken: [1, 0] },
  credit: { type: 'credit', port: 0, frames: 32 },
  metrics: { type: 'metrics', id: 1, nodes: [{ nodeId: 'a' }] },
  ack: { type: 'ack', seq: 16 },
  end: { type: 'end', port: 1, seq: 4 },
  close: { type: 'close', seq: 5 },
  done: { type: 'done', seq: 6 },
  error: { type: 'error', error: { kind: 'protocol', message: 'no' }, seq: 7 },
  draining: { type: 'draining', deadlineMs: 30000 },
  interrupt: { type: 'interrupt', port: 0, timestampUs: 2_840_000 },
  heartbeat: { type: 'heartbeat' },
};

describe('gateway messages: one schema per type', () => {
  it('parses one valid message of every type', () => {
    for (const [type, message] of Object.entries(VALID)) {
      expect(parseGatewayMessage(JSON.stringify(message))).toMatchObject({ type });
    }
  });

  it.each([
    ['a token sent as an array', { ...(VALID.open as object), token: ['t'] }, /token/],
    ['a port over 32767', { type: 'end', port: 40000, seq: 1 }, /port/],
    ['a negative sequence number', { type: 'close', seq: -1 }, /seq/],
    ['a fractional credit', { type: 'credit', port: 0, frames: 1.5 }, /frames/],
    ['no seq on an end', { type: 'end', port: 0 }, /seq/],
    ['an interrupt with no port', { type: 'interrupt', timestampUs: 1 }, /port/],
    [
      'a resume without its key',
      { type: 'resume', version: 2, sessionId: 's', received: 0 },
      /resumeKey/,
    ],
  ])('refuses %s as a protocol error that names the field', (_, message, field) => {
    const error = (() => {
      try {
        parseGatewayMessage(JSON.stringify(message));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ kind: 'protocol' });
    expect(String((error as Error).message)).toMatch(field);
  });

  it('leaves a missing or null token to the gateway, which refuses it as unauthorized', () => {
    const open = { ...(VALID.open as object), token: null };
    expect(parseGatewayMessage(JSON.stringify(open))).toMatchObject({ type: 'open', token: null });
  });

  it('names the valid types for an unknown one, and refuses text that is not JSON', () => {
    expect(() => parseGatewayMessage('{"type":"hello"}')).toThrow(/valid: open, opened, resume/);
    expect(() => parseGatewayMessage('{')).toThrow(/not JSON/);
    expect(() => parseGatewayMessage('null')).toThrow(/unknown control message type/);
  });

  it('heartbeat: the prebuilt text is the message; its interval is asked in open/resume and echoed in opened', () => {
    expect(parseGatewayMessage(GATEWAY_HEARTBEAT_TEXT)).toEqual({ type: 'heartbeat' });
    expect(JSON.parse(GATEWAY_HEARTBEAT_TEXT)).toEqual(VALID.heartbeat);
    for (const asking of [VALID.open, VALID.resume, VALID.opened]) {
      expect(
        parseGatewayMessage(JSON.stringify({ ...(asking as object), heartbeatMs: 1500 })),
      ).toMatchObject({ heartbeatMs: 1500 });
    }
    for (const bad of [GATEWAY_HEARTBEAT_MIN_MS - 1, GATEWAY_HEARTBEAT_MAX_MS + 1, 250.5, '1000']) {
      expect(() =>
        parseGatewayMessage(JSON.stringify({ ...(VALID.open as object), heartbeatMs: bad })),
      ).toThrow(/invalid 'open' message: heartbeatMs/);
    }
  });

  it('checks an island: ports and their sources, the manifest left to its own validation', () => {
    expect(parseRemoteIsland({ manifest: 1, inputs: [{ sources: ['a'] }], outputs: [] })).toEqual({
      manifest: 1,
      inputs: [{ sources: ['a'] }],
      outputs: [],
    });
    expect(() => parseRemoteIsland({ manifest: {}, inputs: [{}], outputs: [] })).toThrow(
      /inputs\[0\]\.sources/,
    );
  });
});

describe('FrameAssembler: what a peer can make it hold is bounded', () => {
  const frame = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);

  it('reassembles frames byte-exact from interleaved parts on two ports', () => {
    const assembler = new FrameAssembler(1 << 20, { ports: 2 });
    const a = packFrame(0, frame, 700);
    const b = packFrame(1, frame.slice().reverse(), 1000);
    const out: { port: number; frame: Uint8Array }[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      for (const parts of [a, b]) {
        const whole = parts[i] && assembler.push(parts[i]!);
        if (whole) out.push({ port: whole.port, frame: Uint8Array.from(whole.frame) });
      }
    }
    expect(out).toEqual([
      { port: 1, frame: frame.slice().reverse() },
      { port: 0, frame },
    ]);
  });

  it(`charges ${PART_CHARGE_BYTES} bytes per part on top of its payload`, () => {
    const assembler = new FrameAssembler(10_000, { maxParts: 1_000_000 });
    const tiny = Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1);
    let taken = 0;
    expect(() => {
      for (;;) {
        assembler.push(tiny);
        taken++;
      }
    }).toThrow(/over 10000 bytes \(counting 64 per part\)/);
    expect(taken).toBe(Math.floor(10_000 / (1 + PART_CHARGE_BYTES)));
  });

  it('caps the parts of one frame, and refuses ports the session does not have', () => {
    const assembler = new FrameAssembler(1 << 20, { maxParts: 16, ports: 1 });
    const tiny = Uint8Array.of(0, GATEWAY_MORE_PARTS >> 8, 1);
    for (let i = 0; i < 16; i++) assembler.push(tiny);
    expect(() => assembler.push(tiny)).toThrow(/over 16 parts/);
    expect(() => assembler.push(Uint8Array.of(1, 0, 1))).toThrow(
      /port 1: this session has ports 0..0/,
    );
  });
});

/**
 * A raw gateway session for the attack tests that stream many frames: it sends
 * `frames` input frames within the credit the gateway grants (opened → send up to the
 * window; credit → send more), reassembles output messages that come in parts, decodes
 * each frame with its CRC checked, and records anything that fails as a problem rather
 * than skipping it. Hooks let a test read slowly (pause the socket) or drop it. Node
 * only (the ws package). raw-client.ts is the one for single control messages.
 */
import WebSocket from 'ws';
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameAssembler,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  packFrame,
  type RemoteIslandSpec,
  type RuntimeData,
} from '../../web/core/internal.ts';

export interface CreditSessionOptions<T> {
  url: string;
  token: string;
  island: RemoteIslandSpec;
  /** The client's largest message (`open`'s maxMessageSize): larger frames come in parts. */
  maxMessageSize: number;
  heartbeatMs?: number;
  /** Extra ws client options (perMessageDeflate, rejectUnauthorized). */
  socket?: WebSocket.ClientOptions;
  /** How many input frames to send to port 0; `end` follows the last. */
  frames: number;
  /** Input frame `sequence` (from 1). */
  frameOf: (sequence: number) => RuntimeData;
  /** What to keep of a decoded output frame; a throw is recorded as a problem. */
  collect: (frame: Frame) => T;
  /** Read in bursts: pause the socket for `pauseMs` after every `every` messages. */
  bursts?: { every: number; pauseMs: number };
  /**
   * Called for every message received (counted from 1), after the burst pause: a
   * string returned ends the session with that as its reason (e.g. a dropped socket).
   */
  onMessage?: (ws: WebSocket, count: number) => string | undefined;
  /** Called once `opened` arrives, after the first frames went out. */
  onOpened?: (ws: WebSocket) => void;
}

export interface CreditSessionResult<T> {
  /** 'done', `error <error>`, `closed <code>`, or what onMessage returned. */
  why: string;
  got: T[];
  problems: string[];
  beats: number;
  /** The extensions ws negotiated ('permessage-deflate' or ''). */
  extensions: string;
}

/** Runs one session to its end (done, error, close or a hook's reason); terminates the socket. */
export async function creditSession<T>(
  options: CreditSessionOptions<T>,
): Promise<CreditSessionResult<T>> {
  const ws = new WebSocket(options.url, { maxPayload: 1 << 30, ...options.socket });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const assembler = new FrameAssembler(1 << 24);
  const got: T[] = [];
  const problems: string[] = [];
  let credit = GATEWAY_WINDOW;
  let sent = 0;
  let messages = 0;
  let beats = 0;
  let finished!: (why: string) => void;
  const over = new Promise<string>((resolve) => (finished = resolve));
  const pump = () => {
    while (sent < options.frames && sent < credit) {
      sent++;
      const data = options.frameOf(sent);
      for (const part of packFrame(0, encodeFrame({ sequence: sent, data }), 1 << 30)) {
        ws.send(part);
      }
      if (sent === options.frames) {
        ws.send(JSON.stringify({ type: 'end', port: 0, seq: options.frames + 1 }));
      }
    }
  };
  ws.on('message', (raw, isBinary) => {
    const bytes = raw as Buffer;
    messages++;
    if (options.bursts && messages % options.bursts.every === 0) {
      ws.pause(); // a slow reader: TCP fills, the gateway's writes queue behind it
      setTimeout(() => ws.resume(), options.bursts.pauseMs);
    }
    const stop = options.onMessage?.(ws, messages);
    if (stop !== undefined) {
      finished(stop);
      return;
    }
    if (!isBinary) {
      const message = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      if (message.type === 'opened') {
        pump();
        options.onOpened?.(ws);
      } else if (message.type === 'credit') {
        credit += Number(message.frames);
        pump();
      } else if (message.type === 'heartbeat') beats++;
      else if (message.type === 'done') finished('done');
      else if (message.type === 'error') finished(`error ${JSON.stringify(message.error)}`);
      return;
    }
    try {
      const whole = assembler.push(new Uint8Array(bytes));
      if (!whole) return;
      got.push(options.collect(decodeFrame(whole.frame))); // the CRC is checked here
    } catch (error) {
      problems.push(String(error));
    }
  });
  ws.on('close', (code) => finished(`closed ${code}`));
  ws.send(
    JSON.stringify({
      type: 'open',
      version: GATEWAY_PROTOCOL_VERSION,
      token: options.token,
      island: options.island,
      maxMessageSize: options.maxMessageSize,
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    }),
  );
  const why = await over;
  ws.terminate();
  return { why, got, problems, beats, extensions: ws.extensions };
}

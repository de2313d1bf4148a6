/**
 * One remote session: the client's island runs in a PipelineSession here; its input
 * ports feed source nodes, its sinks send to the output ports. Inputs are taken in
 * order and acknowledged with credit; outputs wait while the socket's send buffer
 * (or, for a resumable session, the replay log) is full.
 *
 * A resumable session outlives its WebSocket: when the connection drops it keeps
 * running detached, logging what it would send, until the client resumes on a new
 * socket (attach) or the idle timeout ends it.
 *
 * A fault stays here: every handler and every link of the input chain ends in a
 * catch that fails this session alone with a typed error (`protocol` for a client
 * that breaks the protocol, `limit` for one over a limit) and a close. The client
 * is held to its credit (GATEWAY_WINDOW frames per port beyond what was granted),
 * to the frame and part limits of its assembler, and to a ceiling on the input
 * bytes queued and not yet taken.
 */
import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import type WebSocket from 'ws';
import {
  decodeFrame,
  type Frame,
  FrameAssembler,
  GATEWAY_ACK_EVERY,
  GATEWAY_WINDOW,
  type GatewayMessage,
  type NodeMetricsSnapshot,
  packFrameOf,
  prepareFrame,
  protocolError,
  type PipelineRunner,
  type PipelineSession,
  RemoteMediaError,
  type RemoteIslandSpec,
  ReplayLog,
  type SequencedMessage,
  SequenceTracker,
  type SerializedError,
  type SinkPort,
} from '../web/core/internal.ts';
import { useNativeCrc32 } from '../web/core/crc32.ts';
import { slabBytes } from './buffer-slab.ts';
import { headerLength, rawSocketOf, writeBinaryHeader } from './ws-preframed.ts';
import type { GatewayMetrics } from './metrics.ts';

// Every frame in and out is checked or sealed with a CRC-32: Node's own (zlib's) is
// about 10x the speed of the codec's table loop, the largest JS cost per frame.
if (typeof zlibCrc32 === 'function') useNativeCrc32(zlibCrc32);

/**
 * packFrameOf (one frame, its port header, in as many messages as it needs), with a
 * frame that fits one message encoded straight into slab memory (buffer-slab.ts)
 * rather than an ArrayBuffer of its own per frame, behind room for its WebSocket
 * header: `framed` is then the whole WebSocket frame once the header is written
 * (ws-preframed.ts), `parts` its payload (what a resume resends through ws).
 */
function dataMessages(
  port: number,
  frame: Frame,
  maxMessageSize: number,
  allocate: (length: number) => Uint8Array,
): { parts: Uint8Array[]; framed: Uint8Array | undefined } {
  const prepared = prepareFrame(frame);
  const length = 2 + prepared.length;
  if (length > maxMessageSize) {
    return { parts: packFrameOf(port, frame, maxMessageSize), framed: undefined };
  }
  const head = headerLength(length);
  const framed = allocate(head + length);
  framed[head] = port & 0xff;
  framed[head + 1] = port >> 8;
  prepared.writeInto(framed, head + 2);
  return { parts: [framed.subarray(head)], framed };
}

const SCRATCH_BYTES = 64 << 10;
/**
 * The reused output buffer of sessions without a replay log (see sendFrame), free
 * from `scratchFree` on: what lies before it is held by writes libuv has queued.
 * A queued write used to cost a fresh 64 KiB scratch buffer, held (all of it) until
 * libuv wrote the frame: ArrayBuffer memory V8 counts toward its next mark-compact.
 * Now a queued write keeps only its own bytes, as a slab slice does.
 */
let scratch = new Uint8Array(SCRATCH_BYTES);
let scratchFree = 0;
/** `length` bytes of the scratch buffer's free part (slab memory when it is too small). */
function scratchBytes(length: number): Uint8Array {
  if (length > SCRATCH_BYTES) return slabBytes(length);
  if (scratchFree + length > SCRATCH_BYTES) {
    scratch = new Uint8Array(SCRATCH_BYTES);
    scratchFree = 0;
  }
  return scratch.subarray(scratchFree, scratchFree + length);
}
/** A write of `framed` (from scratchBytes) was queued: its bytes are not reused. */
function keepScratch(framed: Uint8Array): void {
  if (framed.buffer !== scratch.buffer) return;
  scratchFree = (framed.byteOffset + framed.length + 7) & ~7;
}

/** Input payloads are copied into slab memory too (plain Uint8Arrays: a node's slice() copies). */
const POOLED = { allocate: slabBytes };
/**
 * A message that is the session's alone (onData's `owned`) is decoded in place: its
 * payload stays where ws received it (frame-codec.ts, CodecOptions.inPlace), no slab copy.
 */
const IN_PLACE = { allocate: slabBytes, inPlace: true };

/** Bytes queued on the socket before a sink waits. */
const SEND_HIGH_WATER = 4 << 20;
/** Unacknowledged outputs of a resumable session before a sink waits. */
const REPLAY_FRAMES = 256;
const REPLAY_BYTES = 16 << 20;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface SessionLimits {
  maxMessageSize: number;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  /** Parts one input frame may travel in. Default 4096. */
  maxPartsPerFrame?: number;
  /** Input bytes received and not yet taken by the pipeline. Default twice maxFrameBytes. */
  maxHeldBytes?: number;
}

/** The close code that goes with an error of each kind. */
function closeCodeOf(kind: string): number {
  if (kind === 'protocol' || kind === 'limit' || kind === 'unauthorized') return 1008;
  if (kind === 'frame_codec') return 1007;
  return 1011;
}

export class GatewaySession {
  /** Settles when the session is over for good: no resume can reach it any more. */
  readonly ended: Promise<void>;
  /** Given to the client in `opened`; a resume must present it. */
  readonly resumeKey: string | undefined;
  private session: PipelineSession | undefined;
  private socket: WebSocket | undefined;
  private assembler: FrameAssembler;
  /** The input queue (enqueue): step and `after` pairs, run one at a time from `next`. */
  private readonly links: ((() => unknown) | undefined)[] = [];
  private next = 0;
  private pumping = false;
  /** Per port: inputs taken since the last credit message. */
  private readonly credit: number[];
  private readonly taken: number[];
  /** Per port: credit sent in all (the client may send GATEWAY_WINDOW more). */
  private readonly granted: number[];
  /** Per port: new frames received (repeats after a resume not counted). */
  private readonly arrived: number[];
  private readonly endedPorts = new Set<number>();
  /** The client sent `close`: nothing may follow. */
  private closedByClient = false;
  /** Input bytes received and not yet taken. */
  private heldBytes = 0;
  private metricsAnswer: Promise<NodeMetricsSnapshot[]> | undefined;
  private readonly received = new SequenceTracker();
  private readonly sent = new ReplayLog();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last message (done or error) is out, or logged for a resume. */
  private finished = false;
  private release!: () => void;
  private readonly drained = new Set<() => void>();

  private constructor(
    private readonly spec: RemoteIslandSpec,
    private readonly limits: SessionLimits,
    private readonly counters: GatewayMetrics,
    private clientMaxMessage: number,
    resumable: boolean,
  ) {
    this.assembler = this.newAssembler();
    this.credit = spec.inputs.map(() => 0);
    this.taken = spec.inputs.map(() => 0);
    this.granted = spec.inputs.map(() => 0);
    this.arrived = spec.inputs.map(() => 0);
    this.resumeKey = resumable ? randomBytes(24).toString('base64url') : undefined;
    this.ended = new Promise((resolve) => (this.release = resolve));
  }

  static async open(
    socket: WebSocket,
    runner: PipelineRunner,
    spec: RemoteIslandSpec,
    limits: SessionLimits,
    metrics: GatewayMetrics,
    options: { clientMaxMessage: number; resumable: boolean },
  ): Promise<GatewaySession> {
    const gateway = new GatewaySession(
      spec,
      limits,
      metrics,
      options.clientMaxMessage,
      options.resumable,
    );
    const sinkPorts = new Map<string, SinkPort>(
      spec.outputs.map(({ sink }, port) => [
        sink,
        {
          push: (data) => gateway.sendFrame(port, data),
          end: () => gateway.sequenced({ type: 'end', port }),
        },
      ]),
    );
    gateway.session = await runner.createStreamSession(spec.manifest, { sinkPorts });
    gateway.attachSocket(socket);
    gateway.session
      .ended()
      .then(
        () => gateway.finish({ type: 'done' }, 1000),
        (error: unknown) => gateway.fail(error),
      )
      .catch((error: unknown) => gateway.fail(error));
    return gateway;
  }

  /** The session's per-node metrics, for /metrics. */
  metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.session?.metrics() ?? Promise.resolve([]);
  }

  get sessionId(): string {
    return this.session!.sessionId;
  }

  private get connected(): boolean {
    return this.socket !== undefined && this.socket.readyState === this.socket.OPEN;
  }

  get resumable(): boolean {
    return this.resumeKey !== undefined;
  }

  /**
   * A client came back on `socket`, having received up to `received`: answer
   * `resumed`, resend what it missed, carry on. A socket still attached (the old
   * connection, not yet seen dead) is dropped.
   */
  resume(
    socket: WebSocket,
    received: number,
    clientMaxMessage: number,
    maxMessageSize: number,
  ): void {
    const missed = this.sent.after(received);
    const old = this.socket;
    this.socket = undefined;
    old?.terminate();
    this.clientMaxMessage = clientMaxMessage;
    this.assembler = this.newAssembler();
    // The client's credit starts again from what was taken (sent in `resumed`).
    this.taken.forEach((taken, port) => {
      this.granted[port] = taken;
      this.credit[port] = 0;
    });
    this.attachSocket(socket);
    this.counters.resumedTotal++;
    const resumed: GatewayMessage = {
      type: 'resumed',
      maxMessageSize,
      received: this.received.last,
      taken: [...this.taken],
    };
    socket.send(JSON.stringify(resumed));
    for (const message of missed) socket.send(message);
    this.wakeSinks();
    if (this.finished) this.closeSocket();
  }

  /**
   * A binary message from the client: (part of) an input frame. Never throws.
   * `owned`: nobody else reads or writes `message` after this call (ws's message to
   * the gateway's one listener), so its frame may be decoded in place, changing it.
   */
  onData(message: Uint8Array, owned = false): void {
    try {
      this.takeData(message, owned);
    } catch (error) {
      this.fail(error);
    }
  }

  /** A control message from the client, parsed. Never throws. */
  onControl(message: GatewayMessage): void {
    try {
      this.takeControl(message);
    } catch (error) {
      this.fail(error);
    }
  }

  private takeData(message: Uint8Array, owned: boolean): void {
    if (this.finished) return;
    this.touch();
    this.counters.framesIn++;
    this.counters.bytesIn += message.length;
    const whole = this.assembler.push(message);
    if (!whole) return;
    const { port, frame } = whole;
    const input = this.spec.inputs[port]!; // the assembler refuses other ports
    // A frame in several parts is in the assembler's own buffer: the session's too.
    const decoded = decodeFrame(
      frame,
      owned || frame.buffer !== message.buffer ? IN_PLACE : POOLED,
    );
    if (!this.take(decoded.sequence)) return;
    if (this.closedByClient) throw protocolError(`frame ${decoded.sequence} after 'close'`);
    if (this.endedPorts.has(port)) {
      throw protocolError(`frame ${decoded.sequence} on port ${port} after its 'end'`);
    }
    if (++this.arrived[port]! > this.granted[port]! + GATEWAY_WINDOW) {
      throw protocolError(
        `frame ${decoded.sequence} on port ${port} is beyond the credit granted (${this.granted[port]} granted, ${GATEWAY_WINDOW} more allowed, ${this.arrived[port]} sent)`,
      );
    }
    const bytes = frame.length;
    const maxHeld = this.limits.maxHeldBytes ?? 2 * this.limits.maxFrameBytes;
    if ((this.heldBytes += bytes) > maxHeld) {
      throw new RemoteMediaError(
        'limit',
        `input of over ${maxHeld} bytes is queued and not yet taken (the pipeline is slower than the client sends; maxHeldBytes, set by the gateway's operator)`,
      );
    }
    // In order, one at a time: the session's own backpressure paces the client. An
    // island port with one source (the usual case) is one call and no async function;
    // an input (data or control) that its source takes at once lets the next link run
    // at once too (offerInputTo: no promise, no microtask per frame). Controls once
    // waited a turn here because an in-band interrupt followed at once by data hung
    // attack-interrupt.test.ts; the cause was InterruptGate's owed hook run stopping
    // that data's call, fixed there (attack-barge-in.test.ts), not an order to keep.
    const { sources } = input;
    const data = decoded.data;
    this.enqueue(
      sources.length === 1
        ? () => this.session!.offerInputTo(sources[0]!, data)
        : async () => {
            for (const source of sources) await this.session!.sendInputTo(source, data);
          },
      () => {
        this.heldBytes -= bytes;
        this.taken[port]!++;
        if (++this.credit[port]! >= GATEWAY_WINDOW / 2) {
          this.granted[port]! += this.credit[port]!;
          this.sendCredit(port, this.credit[port]!);
          this.credit[port] = 0;
        }
      },
    );
  }

  /** Credit messages by port and count: the same few texts, made once. */
  private readonly creditTexts = new Map<number, string>();

  private sendCredit(port: number, frames: number): void {
    if (!this.connected) return;
    const key = port * 65536 + frames;
    let text = this.creditTexts.get(key);
    if (text === undefined) {
      text = JSON.stringify({ type: 'credit', port, frames } satisfies GatewayMessage);
      if (this.creditTexts.size < 64) this.creditTexts.set(key, text);
    }
    this.socket!.send(text);
  }

  private takeControl(message: GatewayMessage): void {
    if (this.finished) return;
    this.touch();
    switch (message.type) {
      case 'ack':
        if (message.seq > this.sent.last) {
          throw protocolError(`'ack' of ${message.seq}: only ${this.sent.last} were sent`);
        }
        this.sent.ack(message.seq);
        this.wakeSinks();
        return;
      case 'metrics':
        return this.answerMetrics(message.id);
      case 'end': {
        const input = this.spec.inputs[message.port];
        if (!input) {
          throw protocolError(
            `'end' of input port ${message.port}: this session has ${this.spec.inputs.length}`,
          );
        }
        if (!this.take(message.seq)) return;
        if (this.closedByClient) throw protocolError(`'end' ${message.seq} after 'close'`);
        if (this.endedPorts.has(message.port)) {
          throw protocolError(`'end' of port ${message.port} again (${message.seq})`);
        }
        this.endedPorts.add(message.port);
        this.enqueue(() => {
          for (const source of input.sources) this.session!.endInput(source);
        });
        return;
      }
      case 'close':
        if (!this.take(message.seq)) return;
        if (this.closedByClient) throw protocolError(`'close' again (${message.seq})`);
        this.closedByClient = true;
        this.enqueue(() => this.session!.close().catch(() => {}));
        return;
      case 'interrupt':
        if (!this.spec.inputs[message.port]) {
          throw protocolError(
            `'interrupt' on input port ${message.port}: this session has ${this.spec.inputs.length}`,
          );
        }
        // At once: the in-band frame may wait behind queued input for its turn.
        this.counters.interruptsTotal++;
        this.session?.interrupt(message.timestampUs);
        return;
      default:
        throw protocolError(
          `'${message.type}' is not a client message in a session (a client sends data, end, close, ack, metrics and interrupt)`,
        );
    }
  }

  /**
   * The next link of the input chain. Its failure fails this session (and only it);
   * once the session is over, links still queued do nothing.
   */
  private enqueue(step: () => Promise<unknown> | unknown, after?: () => void): void {
    this.links.push(step, after);
    if (!this.pumping) this.pump();
  }

  /**
   * Runs the queued links in order: each step, then its `after` once the step's
   * promise (when it returns one) settles; a step that does not wait is followed by
   * the next at once. Per input frame that is one call and one `then`, where a chain
   * of promises cost five promises and as many microtask turns.
   */
  private pump(): void {
    this.pumping = true;
    while (this.next < this.links.length) {
      if (this.finished) break;
      const step = this.links[this.next++] as () => Promise<unknown> | unknown;
      const after = this.links[this.next++] as (() => void) | undefined;
      try {
        const result = step();
        if (result instanceof Promise) {
          result.then(
            () => this.stepDone(after, false),
            (error: unknown) => this.stepDone(undefined, true, error),
          );
          return;
        }
        after?.();
      } catch (error) {
        this.fail(error);
      }
    }
    // Drained (or the session is over: what is left does nothing).
    this.links.length = 0;
    this.next = 0;
    this.pumping = false;
  }

  private stepDone(after: (() => void) | undefined, failed: boolean, error?: unknown): void {
    if (failed) this.fail(error);
    else if (!this.finished) {
      try {
        after?.();
      } catch (failure) {
        this.fail(failure);
      }
    }
    // What ran is dropped now and then, so a queue that never drains stays small.
    if (this.next >= 1024) {
      this.links.splice(0, this.next);
      this.next = 0;
    }
    this.pump();
  }

  /**
   * One metrics request answered at a time: requests that arrive while one is being
   * gathered share its answer, and none is answered while the client does not read
   * (its socket is over the high water), so asking cannot make the gateway buffer.
   */
  private answerMetrics(id: number): void {
    if ((this.socket?.bufferedAmount ?? 0) >= SEND_HIGH_WATER) return;
    this.metricsAnswer ??= this.metrics()
      .catch(() => [])
      .finally(() => (this.metricsAnswer = undefined));
    this.metricsAnswer
      .then((nodes) => this.control({ type: 'metrics', id, nodes }))
      .catch((error: unknown) => this.fail(error));
  }

  /**
   * The connection closed. A cut (1006) of a resumable session leaves it running,
   * detached, for its client to resume (the idle timer runs on); a clean close after
   * the last message means the client has it all; anything else ends the session.
   */
  onSocketClosed(socket: WebSocket, code: number): void {
    if (socket !== this.socket) return; // an old socket, replaced by a resume
    this.socket = undefined;
    const cut = code === 1006;
    if (!this.finished) {
      if (!(this.resumable && cut)) this.abort('the client connection closed');
    } else if (!(this.resumable && cut)) {
      this.end();
    } else {
      // The ending may not have arrived: kept for a resume, not forever.
      this.idleTimer = setTimeout(() => this.end(), this.limits.idleTimeoutMs);
    }
  }

  /** The session ends now, from the gateway's side. */
  abort(reason: string): void {
    try {
      this.session?.abort(new RemoteMediaError('aborted', `Aborted: ${reason}`));
    } catch {
      // The pipeline's own failure to stop must not keep this session from ending.
    }
    this.finished = true;
    this.end();
  }

  /** Ends this session with `error` (typed), unless it already ended. Never throws. */
  fail(error: unknown): void {
    if (this.finished) return;
    const typed =
      error instanceof RemoteMediaError
        ? error
        : new RemoteMediaError('usage', String((error as Error)?.message ?? error), {
            cause: error,
          });
    try {
      this.counters.countError(typed.kind);
      this.session?.abort(typed);
    } catch {
      // Aborting the pipeline must not keep the session from ending.
    }
    try {
      this.finish({ type: 'error', error: typed.toJSON() }, closeCodeOf(typed.kind));
    } catch {
      this.finished = true;
      this.socket?.terminate();
      this.end();
    }
  }

  /** A client item numbered `seq`: true when new, false when a repeat after a resume. */
  private take(seq: number): boolean {
    const fresh = this.received.take(seq);
    if (fresh && this.resumable && this.received.last % GATEWAY_ACK_EVERY === 0) {
      this.control({ type: 'ack', seq: this.received.last });
    }
    return fresh;
  }

  private closeCode = 1000;

  private finish(
    message: { type: 'done' } | { type: 'error'; error: SerializedError },
    code: number,
  ): void {
    if (this.finished) return;
    this.closeCode = code;
    this.sequenced(message);
    this.finished = true;
    clearTimeout(this.idleTimer);
    if (this.socket) this.closeSocket();
    else if (this.resumable) {
      // Detached: kept for a client that may still come back, not forever.
      this.idleTimer = setTimeout(() => this.end(), this.limits.idleTimeoutMs);
    } else this.end();
  }

  private closeSocket(): void {
    this.socket?.close(this.closeCode);
  }

  private end(): void {
    clearTimeout(this.idleTimer);
    this.finished = true;
    this.wakeSinks();
    this.release();
  }

  private newAssembler(): FrameAssembler {
    return new FrameAssembler(this.limits.maxFrameBytes, {
      maxParts: this.limits.maxPartsPerFrame,
      ports: this.spec.inputs.length,
    });
  }

  private attachSocket(socket: WebSocket): void {
    this.socket = socket;
    this.touch();
  }

  /** Unnumbered control messages: lost with a connection, and that is fine. */
  private control(message: GatewayMessage): void {
    if (this.connected) this.socket!.send(JSON.stringify(message));
  }

  /** end, done, error: numbered, logged for a resume, sent when connected. */
  private sequenced(message: DistributiveOmit<SequencedMessage, 'seq'>): void {
    const [text] = this.sent.next(this.resumable, (seq) => [JSON.stringify({ ...message, seq })]);
    if (this.connected) this.socket!.send(text!);
  }

  private sendFrame(
    port: number,
    data: Parameters<SinkPort['push']>[0],
  ): Promise<void> | undefined {
    if (this.finished) {
      return Promise.reject(new RemoteMediaError('aborted', 'the session has ended'));
    }
    if (!this.socket && !this.resumable) {
      return Promise.reject(new RemoteMediaError('aborted', 'the client connection closed'));
    }
    // A socket ws lets us write to (ws-preframed.ts) takes the message in one write.
    // A session without a replay log, on a socket with nothing queued, encodes into
    // the scratch buffer that every such session reuses: a write the kernel takes at
    // once leaves nothing of it behind. A socket that has to queue the write keeps
    // those bytes (libuv writes the rest from them later), so later frames go after
    // them (keepScratch). Everything else is encoded into slab memory.
    const raw = this.connected ? rawSocketOf(this.socket!) : undefined;
    const reuse = raw !== undefined && !this.resumable && raw.writableLength === 0;
    let framed: Uint8Array | undefined;
    const parts = this.sent.next(this.resumable, (sequence) => {
      const messages = dataMessages(
        port,
        { sequence, data },
        this.clientMaxMessage,
        reuse ? scratchBytes : slabBytes,
      );
      framed = messages.framed;
      return messages.parts;
    });
    if (this.connected) {
      for (const part of parts) {
        if (raw && framed) {
          writeBinaryHeader(framed, part.length);
          raw.write(framed);
          if (raw.writableLength > 0) keepScratch(framed);
        } else this.socket!.send(part);
        this.counters.framesOut++;
        this.counters.bytesOut += (part as Uint8Array).length;
      }
    }
    if (!this.mustWait()) return undefined;
    return new Promise((resolve) => {
      const check = () => {
        if (!this.mustWait(0.5) || this.finished) {
          this.drained.delete(check);
          resolve();
        } else if (this.socket) setTimeout(check, 2);
      };
      this.drained.add(check);
      check();
    });
  }

  /** Over the socket's high water, or the replay log full (or detached with anything unsent). */
  private mustWait(fraction = 1): boolean {
    if (
      this.resumable &&
      (this.sent.size >= REPLAY_FRAMES * fraction || this.sent.bytes >= REPLAY_BYTES * fraction)
    ) {
      return true;
    }
    return (this.socket?.bufferedAmount ?? 0) >= SEND_HIGH_WATER * fraction;
  }

  private wakeSinks(): void {
    for (const check of [...this.drained]) check();
  }

  /** When the client was last heard from (ms, Date.now()). */
  private lastHeard = 0;

  /**
   * The client was heard from. Per frame this only notes the time: the idle timer is
   * armed once and, when it fires early, re-armed for the rest (a timer per frame
   * was a Timeout object and two timer-list operations per frame).
   */
  private touch(): void {
    if (this.finished) return;
    this.lastHeard = Date.now();
    if (this.idleTimer === undefined) this.armIdle(this.limits.idleTimeoutMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.finished) return;
      const quiet = Date.now() - this.lastHeard;
      if (quiet < this.limits.idleTimeoutMs) return this.armIdle(this.limits.idleTimeoutMs - quiet);
      const detached = !this.socket;
      this.fail(
        new RemoteMediaError(
          'aborted',
          detached
            ? `the client did not resume within ${this.limits.idleTimeoutMs} ms of losing its connection`
            : `the session was idle for ${this.limits.idleTimeoutMs} ms (no message from the client)`,
        ),
      );
      if (detached) this.end();
    }, ms);
  }
}

/**
 * The client side of one gateway session (protocol: web/core/gateway-protocol.ts):
 * opens a WebSocket, sends the island to run, then moves frames both ways. Inputs
 * respect the gateway's credit (at most GATEWAY_WINDOW frames in flight per port);
 * outputs are handed to `onOutput`, whose promise holds further reading back.
 *
 * With `remote.reconnect`, a dropped connection is not the end: the connection
 * keeps what the gateway has not acknowledged, reconnects with `resume`, resends
 * what the gateway missed and drops what it already had, so every frame arrives
 * exactly once each way. Runs in a page, a worker, or Node (pass `WebSocket` from
 * the ws package there).
 *
 * With `restartOnLoss` (or `remote.restart_on_loss`), a session whose gateway is
 * gone (a resume that cannot succeed, or a drop without resume) is opened again
 * through the same URL — behind a balancer, on another gateway — and carries on
 * with the next frame; `onRestarted` says which frames were lost and that the
 * nodes' state was reset (RestartedEvent).
 *
 * Liveness (`livenessTimeoutMs`): the connection asks the gateway for a heartbeat
 * on every quiet interval (gateway-protocol.ts) and takes silence past the deadline
 * as a lost gateway — resumed, restarted or failed like a dropped connection. A
 * paused gateway (SIGSTOP, a hung host) keeps its TCP connection open, and a
 * browser cannot send or see WebSocket pings: without this it waited for ever.
 */
import {
  decodeFrame,
  FrameAssembler,
  GATEWAY_ACK_EVERY,
  GATEWAY_HEARTBEAT_MAX_MS,
  GATEWAY_HEARTBEAT_MIN_MS,
  GATEWAY_HEARTBEAT_TEXT,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  type GatewayMessage,
  type NodeMetricsSnapshot,
  packFrameOf,
  parseGatewayMessage,
  type RemoteConfig,
  RemoteMediaError,
  type RemoteIslandSpec,
  ReplayLog,
  type RuntimeData,
  SequenceTracker,
} from '../../core/internal.ts';

export interface GatewayClientOptions {
  /** The token the gateway was started with. */
  token: string;
  /** A WebSocket class, where there is no global one (Node 20: the ws package). */
  WebSocket?: typeof WebSocket;
  /**
   * With `remote.reconnect`: how long to keep trying to resume. Default 20 s. Also
   * how long any connection may take to be accepted by a live gateway (its
   * WebSocket open; the answer itself is not timed).
   */
  reconnectWindowMs?: number;
  /**
   * When the session's gateway is lost (it died, or its session cannot be resumed),
   * open the island again (behind a balancer: on another gateway) and carry on with
   * the next frame, reporting what was lost in a RestartedEvent, instead of ending
   * with a worker_lost error. Default: `remote.restart_on_loss`, else false — a
   * restart loses node state and in-flight frames, which only the application can
   * judge acceptable.
   */
  restartOnLoss?: boolean;
  /** Restarts allowed in one session before a loss ends it. Default 3. */
  maxRestarts?: number;
  /**
   * Silence from the gateway longer than this (ms) is a lost gateway, even while its
   * connection stays open (a paused process): the connection asks the gateway for a
   * heartbeat on each quiet quarter of it, so a live gateway is never this quiet.
   * With restartOnLoss the island restarts elsewhere; without, the session ends with
   * worker_lost (after trying to resume, with `remote.reconnect`). 0 turns the check
   * off. Only gateways that answer the request are checked (older ones are not).
   * Default 8000.
   */
  livenessTimeoutMs?: number;
}

/** The default of GatewayClientOptions.livenessTimeoutMs. */
export const DEFAULT_LIVENESS_TIMEOUT_MS = 8000;

/**
 * How long one resume or restart attempt waits for its WebSocket to open: a quarter
 * of the reconnect window (at least 1 s), never past it. A live gateway takes the
 * upgrade at once, even one slow to open its island (its answer is not timed, see
 * connect); a stopped one behind a balancer never does, while its kernel still takes
 * the TCP connection. With the whole window for one attempt, a restart the balancer
 * sent to the stopped gateway (least_conn: it holds no connections once its sessions
 * left) waited the window out and failed, where a next attempt would have reached a
 * live one (remote-gateway/python-restart.test.ts's SIGSTOP case, the Python twin).
 */
function upgradeWithin(windowMs: number, remainingMs: number): number {
  return Math.min(remainingMs, Math.max(1000, windowMs / 4));
}

/** livenessTimeoutMs checked: 0, or a deadline whose quarter is a heartbeat interval the protocol allows. */
function livenessTimeoutOf(options: GatewayClientOptions): number {
  const value = options.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS;
  const min = 4 * GATEWAY_HEARTBEAT_MIN_MS;
  const max = 4 * GATEWAY_HEARTBEAT_MAX_MS;
  if (value === 0) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RemoteMediaError(
      'usage',
      `livenessTimeoutMs ${typeof value === 'number' ? value : JSON.stringify(value)}: expected 0 (no liveness check) or milliseconds from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * The island was lost with its gateway and started again elsewhere. Frames are
 * numbered per input port from 1 over the whole session (the n-th `send` on that
 * port), whichever gateway they went to.
 */
export interface RestartedEvent {
  type: 'restarted';
  /** Why the old session was lost (the worker_lost error it would have ended with). */
  reason: string;
  /** The lost gateway's name in the fleet (`opened.gateway`), when it had one. */
  lostGateway: string | undefined;
  lostSessionId: string;
  /** The gateway and session that run the island now. */
  gateway: string | undefined;
  sessionId: string;
  /**
   * Per input port, the frames sent to the lost gateway whose results never came
   * back: matched in order, the island's n-th output answers its n-th input (true
   * of per-frame nodes: gain, resampling, PassThrough...). They are not resent: the
   * restarted island carries on with the next frame.
   */
  lost: { port: number; frames: number[] }[];
  /** Per input port: frames the lost gateway was sent (first and last frame number). */
  sent: { port: number; first: number; last: number }[];
  /** Per output port: outputs received from the lost gateway. */
  received: number[];
  /** Every node of the island started afresh: whatever state they held is gone. */
  nodesReset: string[];
  /** Restarts of this session so far, this one included. */
  restarts: number;
}

export interface GatewayHandlers {
  onOutput(port: number, data: RuntimeData): Promise<void> | undefined;
  onOutputEnd(port: number): void;
  /** The island was restarted on another gateway (with `restartOnLoss`). */
  onRestarted?(event: RestartedEvent): void;
}

export function gatewayUrl(remote: RemoteConfig): string {
  return `${remote.ssl_enabled ? 'wss' : 'ws'}://${remote.host}:${remote.port}/v1`;
}

type Reply = Extract<GatewayMessage, { type: 'opened' | 'resumed' }>;

export class GatewayConnection {
  /** Settles when the session ends: resolves on `done`, rejects with its error. */
  readonly done: Promise<void>;
  /** Times the connection dropped and the session was resumed. */
  resumes = 0;
  /** Times the island was lost with its gateway and opened again (restartOnLoss). */
  restarts = 0;
  private settle!: { resolve(): void; reject(error: RemoteMediaError): void };
  private socket!: WebSocket;
  private assembler = new FrameAssembler(64 << 20);
  private reading: Promise<void> = Promise.resolve();
  private sent = new ReplayLog();
  private received = new SequenceTracker();
  private readonly sentPerPort: number[];
  private readonly granted: number[];
  private readonly waiting: (() => void)[][];
  private readonly url: string;
  private readonly localMax: number;
  private maxMessageSize: number;
  private sessionId = '';
  private resumeKey: string | undefined;
  /** The gateway's name in a fleet (`opened.gateway`): resumes are routed to it. */
  private gatewayName: string | undefined;
  /** Writing to the socket: not while connecting, resuming or after the end. */
  private live = false;
  private ended = false;
  private metricsCounter = 0;
  private readonly metricsAsked = new Map<number, (nodes: NodeMetricsSnapshot[]) => void>();
  /** `done` arrived: the close that follows it is the end, not a drop. */
  private finishing = false;
  private failure: RemoteMediaError | undefined;
  private readonly restartOnLoss: boolean;
  /** Per input port: frames sent in the whole session, and before this gateway's first. */
  private readonly framesSent: number[];
  private framesBefore: number[];
  /** Per output port: outputs received from this gateway. */
  private outputsHere: number[];
  /** Ports whose input end was sent, outputs whose end arrived, and `close`: a restart repeats them. */
  private readonly inputEnded = new Set<number>();
  private readonly outputEnded = new Set<number>();
  private closing = false;
  /** livenessTimeoutMs, checked (0: off). */
  private readonly livenessMs: number;
  /** Messages heard on the current socket: the liveness check only compares counts. */
  private heard = 0;
  /** The gateway answered the heartbeat request: its silence means it is gone. */
  private beats = false;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly remote: RemoteConfig,
    private readonly island: RemoteIslandSpec,
    private readonly handlers: GatewayHandlers,
    private readonly options: GatewayClientOptions,
  ) {
    this.url = gatewayUrl(remote);
    this.localMax = remote.max_message_size ?? 1 << 20;
    this.maxMessageSize = this.localMax;
    this.sentPerPort = island.inputs.map(() => 0);
    this.granted = island.inputs.map(() => 0);
    this.waiting = island.inputs.map(() => []);
    this.framesSent = island.inputs.map(() => 0);
    this.framesBefore = island.inputs.map(() => 0);
    this.outputsHere = island.outputs.map(() => 0);
    this.restartOnLoss = options.restartOnLoss ?? remote.restart_on_loss === true;
    this.livenessMs = livenessTimeoutOf(options);
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  static async open(
    remote: RemoteConfig,
    island: RemoteIslandSpec,
    handlers: GatewayHandlers,
    options: GatewayClientOptions,
  ): Promise<GatewayConnection> {
    const connection = new GatewayConnection(remote, island, handlers, options);
    try {
      // Bounded until the socket is open, as a resume is: a stopped gateway's kernel
      // takes the connection and nothing ever answers.
      connection.opened(
        await connection.connect(connection.openMessage(), options.reconnectWindowMs ?? 20_000),
      );
    } catch (error) {
      connection.fail(asError(error));
      throw error;
    }
    return connection;
  }

  private openMessage(): GatewayMessage {
    return {
      type: 'open',
      version: GATEWAY_PROTOCOL_VERSION,
      token: this.options.token,
      island: this.island,
      maxMessageSize: this.localMax,
      resume: this.remote.reconnect === true,
      ...this.heartbeatAsk(),
    };
  }

  /** What `open` and `resume` ask: a heartbeat on each quiet quarter of the deadline. */
  private heartbeatAsk(): { heartbeatMs?: number } {
    if (this.livenessMs === 0) return {};
    const quarter = Math.floor(this.livenessMs / 4);
    return {
      heartbeatMs: Math.min(GATEWAY_HEARTBEAT_MAX_MS, Math.max(GATEWAY_HEARTBEAT_MIN_MS, quarter)),
    };
  }

  private opened(reply: Reply): void {
    if (reply.type !== 'opened') throw new RemoteMediaError('usage', 'the gateway did not open');
    this.sessionId = reply.sessionId;
    this.resumeKey = reply.resumeKey;
    this.gatewayName = reply.gateway;
    this.maxMessageSize = Math.min(this.localMax, reply.maxMessageSize);
    this.live = true;
    this.beats = reply.heartbeatMs !== undefined && this.livenessMs > 0;
    this.watch();
  }

  /**
   * Checks the current socket for silence every quarter of the deadline; past it, the
   * gateway is lost. Cheap by design: per message only `heard` is counted. A check
   * that runs late (this thread was busy, and may not have read what arrived) starts
   * the count again rather than judge.
   */
  private watch(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    if (!this.beats || !this.live) return;
    const socket = this.socket;
    const period = this.livenessMs / 4;
    let seen = this.heard;
    let quietSince = Date.now();
    let lastCheck = quietSince;
    const watchdog = setInterval(() => {
      const now = Date.now();
      const late = now - lastCheck > 2 * period;
      lastCheck = now;
      if (socket !== this.socket || !this.live) return clearInterval(watchdog);
      if (this.heard !== seen || late) {
        seen = this.heard;
        quietSince = now;
      } else if (now - quietSince >= this.livenessMs) {
        clearInterval(watchdog);
        this.silent(socket, now - quietSince);
      }
    }, period);
    this.watchdog = watchdog;
  }

  /** The gateway went silent on `socket`: it is let go, and the session lost as by a drop. */
  private silent(socket: WebSocket, quietMs: number): void {
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    terminate(socket);
    this.onDropped(
      new RemoteMediaError(
        'worker_lost',
        `the gateway sent nothing for ${quietMs} ms (livenessTimeoutMs ${this.livenessMs}): it is paused, hung or unreachable (session ${this.sessionId}${this.gatewayName ? ` on gateway ${this.gatewayName}` : ''} at ${this.url})`,
      ),
    );
  }

  /** The gateway gave a resume key: keep what it has not acknowledged. */
  private get resumable(): boolean {
    return this.resumeKey !== undefined;
  }

  /**
   * Barge-in, out of band: the gateway interrupts the session's `to` nodes now, not
   * when the frame's turn comes (the same stamp acts once there). Nothing while the
   * connection is down: the frame, which waits, tells the session where it lives.
   */
  interrupt(port: number, timestampUs?: number): void {
    if (!this.live || this.recovering || this.failure) return;
    this.socket.send(
      JSON.stringify({
        type: 'interrupt',
        port,
        ...(timestampUs !== undefined ? { timestampUs } : {}),
      } satisfies GatewayMessage),
    );
  }

  /** Sends one input; returns a promise only when it had to wait for credit. */
  send(port: number, data: RuntimeData): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    // Barge-in: the gateway acts on it now; the frame itself waits for credit as usual.
    if (data.kind === 'control' && data.signal === 'interrupt')
      this.interrupt(port, data.timestampUs);
    // While resuming or restarting, wait: a frame then goes where the session lives.
    // So too once the socket is closing or closed (its close event is on its way):
    // written now, the frame would be dropped and counted lost.
    const closing = this.socket.readyState > SOCKET_OPEN && !this.ended && !this.finishing;
    if (
      this.recovering ||
      closing ||
      this.sentPerPort[port]! - this.granted[port]! >= GATEWAY_WINDOW
    ) {
      return new Promise<void>((resolve) => this.waiting[port]!.push(resolve)).then(() =>
        this.send(port, data),
      );
    }
    this.sentPerPort[port]!++;
    this.framesSent[port]!++;
    this.write(
      this.sent.next(this.resumable, (sequence) =>
        packFrameOf(port, { sequence, data }, this.maxMessageSize),
      ),
    );
    return undefined;
  }

  endInput(port: number): void {
    this.inputEnded.add(port);
    if (!this.failure) this.sequenced({ type: 'end', port });
  }

  close(): void {
    this.closing = true;
    if (!this.failure) this.sequenced({ type: 'close' });
  }

  /**
   * The per-node metrics of the gateway's part of the session; none while the
   * connection is down or once the session has ended.
   */
  metrics(): Promise<NodeMetricsSnapshot[]> {
    if (!this.live) return Promise.resolve([]);
    const id = ++this.metricsCounter;
    return new Promise<NodeMetricsSnapshot[]>((resolve) => {
      // A drop before the answer: nothing to show this time.
      const timer = setTimeout(() => {
        this.metricsAsked.delete(id);
        resolve([]);
      }, 2000);
      this.metricsAsked.set(id, (nodes) => {
        clearTimeout(timer);
        resolve(nodes);
      });
      this.socket.send(JSON.stringify({ type: 'metrics', id } satisfies GatewayMessage));
    });
  }

  /** Ends the session from this side, at once. */
  abort(reason: string): void {
    this.fail(new RemoteMediaError('aborted', `Aborted: ${reason}`));
    this.socket.close(1000);
  }

  private sequenced(message: { type: 'end'; port: number } | { type: 'close' }): void {
    this.write(this.sent.next(this.resumable, (seq) => [JSON.stringify({ ...message, seq })]));
  }

  private write(messages: (Uint8Array | string)[]): void {
    if (!this.live) return; // kept in the replay log: resent on resume
    for (const message of messages) this.socket.send(message);
  }

  /**
   * A new socket: sends `first` once open and resolves with the answer (opened or
   * resumed); rejects on an error answer or a connection that fails before it, or,
   * given `withinMs`, one whose WebSocket is not open by then: a stopped gateway's
   * kernel still accepts the connection, and without a deadline a resume or restart
   * waited on it for ever, past its reconnect window (the socket is dropped, and the
   * rejection is `unreachable`, so the caller's loop tries again until its window).
   * Once upgraded, the gateway is alive: its answer may take as long as opening the
   * island does (its nodes initialise first, models load), so it is not timed.
   */
  private connect(first: GatewayMessage, withinMs?: number): Promise<Reply> {
    const Socket = this.options.WebSocket ?? globalThis.WebSocket;
    if (typeof Socket !== 'function') {
      throw new RemoteMediaError(
        'usage',
        `no WebSocket here to reach ${this.url}: pass { WebSocket } in the client options (on Node, 'remotemedia-web' brings the ws package's)`,
      );
    }
    // A resume names the gateway holding the session, so a balancer in front of
    // several gateways sends it there (remote-gateway/deploy/nginx.conf).
    const socket = new Socket(
      first.type === 'resume' && this.gatewayName
        ? `${this.url}?gateway=${encodeURIComponent(this.gatewayName)}`
        : this.url,
    );
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.assembler = new FrameAssembler(64 << 20);
    return new Promise<Reply>((resolve, reject) => {
      let answered = false;
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const answer = (outcome: () => void) => {
        if (answered) return false;
        answered = true;
        clearTimeout(deadline);
        outcome();
        return true;
      };
      if (withinMs !== undefined) {
        deadline = setTimeout(
          () => {
            const silent = unreachable(
              `the gateway at ${this.url} did not answer within ${Math.max(0, Math.round(withinMs))} ms`,
            );
            if (!answer(() => reject(silent))) return;
            terminate(socket);
          },
          Math.max(1, withinMs),
        );
      }
      socket.onopen = () => {
        clearTimeout(deadline);
        socket.send(JSON.stringify(first));
      };
      socket.onmessage = (event: MessageEvent) => {
        if (socket !== this.socket) return;
        this.heard++;
        try {
          if (typeof event.data !== 'string') return this.onBinary(event.data as ArrayBuffer);
          if (event.data === GATEWAY_HEARTBEAT_TEXT) {
            // Before the answer (the island is opening): this gateway beats, so its
            // silence from here on, not the open's length, is what is bounded.
            if (!answered) {
              clearTimeout(deadline);
              deadline = setTimeout(() => {
                if (
                  answer(() =>
                    reject(
                      unreachable(
                        `the gateway at ${this.url} went silent for ${this.livenessMs} ms (livenessTimeoutMs) before answering`,
                      ),
                    ),
                  )
                )
                  terminate(socket);
              }, this.livenessMs);
            }
            return;
          }
          const message = parseGatewayMessage(event.data);
          if (message.type === 'opened' || message.type === 'resumed') {
            answer(() => resolve(message));
          } else if (message.type === 'error' && !answered) {
            // The caller decides: an open fails, a resume may restart.
            answer(() => reject(RemoteMediaError.fromJSON(message.error)));
          } else this.onControl(message);
        } catch (error) {
          this.fail(asError(error));
          socket.close(1007);
        }
      };
      socket.onerror = (event: Event) => {
        // Node's ws says what answered instead of an upgrade; a browser never does.
        // A balancer's 502/504 to a resume: the gateway behind it is gone.
        if (/Unexpected server response: 50[24]/.test(String((event as ErrorEvent).message))) {
          this.balancerSaysGone++;
        }
        answer(() =>
          reject(
            unreachable(
              `cannot reach the gateway at ${this.url} (is it running, is this origin allowed, is it at its connection limit?)`,
            ),
          ),
        );
      };
      socket.onclose = (event: CloseEvent) => {
        const code = `code ${event.code}${event.reason ? `: ${event.reason}` : ''}`;
        if (
          answer(() =>
            reject(
              unreachable(
                `the gateway at ${this.url} closed the connection (${code}) before answering`,
              ),
            ),
          )
        ) {
          return;
        }
        // Where it was lost, so that an operator can tell which gateway of a fleet died.
        const closed = new RemoteMediaError(
          'worker_lost',
          `the gateway connection closed (${code}) before the session ended (session ${this.sessionId}${this.gatewayName ? ` on gateway ${this.gatewayName}` : ''} at ${this.url})`,
        );
        if (socket === this.socket) this.onDropped(closed);
      };
    });
  }

  private onBinary(bytes: ArrayBuffer): void {
    const whole = this.assembler.push(new Uint8Array(bytes));
    if (!whole) return;
    const { sequence, data } = decodeFrame(whole.frame);
    if (!this.take(sequence)) return;
    this.outputsHere[whole.port]!++;
    // A port that ended before a restart stays ended.
    if (this.outputEnded.has(whole.port)) return;
    this.reading = this.reading.then(() => this.handlers.onOutput(whole.port, data));
    this.reading.catch((error: unknown) => this.fail(asError(error)));
  }

  private onControl(message: GatewayMessage): void {
    switch (message.type) {
      case 'credit': {
        this.granted[message.port] = this.granted[message.port]! + message.frames;
        this.wake(message.port);
        return;
      }
      case 'ack':
        this.sent.ack(message.seq);
        return;
      case 'heartbeat':
        return; // counted as heard, like every message
      case 'draining':
        // The gateway shuts down once its sessions end: this one carries on meanwhile.
        // (A session its deadline cuts is dropped: with restartOnLoss it moves elsewhere.)
        return;
      case 'metrics':
        this.metricsAsked.get(message.id)?.(message.nodes ?? []);
        this.metricsAsked.delete(message.id);
        return;
      case 'end':
        if (this.take(message.seq) && !this.outputEnded.has(message.port)) {
          this.outputEnded.add(message.port);
          // After the outputs already received: keep the order of the stream.
          this.reading = this.reading.then(() => this.handlers.onOutputEnd(message.port));
        }
        return;
      case 'done':
        if (this.take(message.seq)) {
          this.finishing = true;
          this.reading = this.reading.then(() => {
            this.ended = true;
            this.live = false;
            this.watch(); // stops it
            this.settle.resolve();
          });
        }
        return;
      case 'error':
        if (message.seq === undefined || this.take(message.seq)) {
          this.fail(RemoteMediaError.fromJSON(message.error));
        }
        return;
      default:
        throw new RemoteMediaError('usage', `unexpected '${message.type}' from the gateway`);
    }
  }

  /** A numbered item from the gateway: true when new (repeats after a resume are dropped). */
  private take(seq: number): boolean {
    const fresh = this.received.take(seq);
    if (fresh && this.resumeKey && this.received.last % GATEWAY_ACK_EVERY === 0 && this.live) {
      this.socket.send(JSON.stringify({ type: 'ack', seq: this.received.last }));
    }
    return fresh;
  }

  /** The connection dropped mid-session: resume when allowed, else the session is lost. */
  private onDropped(closed: RemoteMediaError): void {
    this.live = false;
    this.watch(); // stops it
    if (this.ended || this.finishing || this.failure || this.recovering) return;
    this.recovering = true;
    if (!this.resumeKey) {
      if (this.restartOnLoss) void this.restart(closed);
      else void this.reading.then(() => this.fail(closed));
      return;
    }
    void this.resume(closed);
  }

  private async resume(closed: RemoteMediaError): Promise<void> {
    const windowMs = this.options.reconnectWindowMs ?? 20_000;
    const deadline = Date.now() + windowMs;
    this.balancerSaysGone = 0;
    for (let attempt = 0; !this.failure && Date.now() < deadline; attempt++) {
      // Three 502s in a row from the balancer for this gateway: it is gone, do not wait out the window.
      if (this.balancerSaysGone >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      if (this.failure) return;
      try {
        const reply = await this.connect(
          {
            type: 'resume',
            version: GATEWAY_PROTOCOL_VERSION,
            token: this.options.token,
            sessionId: this.sessionId,
            resumeKey: this.resumeKey!,
            received: this.received.last,
            maxMessageSize: this.localMax,
            ...this.heartbeatAsk(),
          },
          upgradeWithin(windowMs, deadline - Date.now()),
        );
        if (reply.type !== 'resumed') throw new RemoteMediaError('usage', 'expected "resumed"');
        this.maxMessageSize = Math.min(this.localMax, reply.maxMessageSize);
        reply.taken.forEach((taken, port) => (this.granted[port] = taken));
        for (const message of this.sent.after(reply.received)) this.socket.send(message);
        this.live = true;
        this.recovering = false;
        this.resumes++;
        this.watch(); // the same gateway: it beats as it did
        this.waiting.forEach((_, port) => this.wake(port));
        return;
      } catch (error) {
        // The gateway answered that it cannot resume: no point in asking again.
        if (!(error instanceof RemoteMediaError && notReached.has(error))) {
          // Its answer failed the session (connect); a restart undoes that.
          if (this.restartOnLoss) return this.restart(asError(error));
          return this.fail(asError(error));
        }
      }
    }
    if (this.failure) return;
    const lost = new RemoteMediaError(
      'worker_lost',
      `${closed.message}, and resuming at ${this.url}${this.gatewayName ? ` (session ${this.sessionId} on gateway ${this.gatewayName})` : ''} did not succeed ${this.balancerSaysGone >= 3 ? '(the balancer answered 502: the gateway is gone)' : `within ${windowMs} ms`}`,
    );
    if (this.restartOnLoss) return this.restart(lost);
    this.fail(lost);
  }

  /** 502s from a balancer to this resume's attempts (Node's ws only). */
  private balancerSaysGone = 0;
  /** Resuming or restarting: drops of the sockets tried meanwhile are not new losses. */
  private recovering = false;

  /**
   * The session is lost with its gateway: open the island again (a balancer picks a
   * live gateway), carry on with the next frame, and say what was lost.
   */
  private async restart(lost: RemoteMediaError): Promise<void> {
    const maxRestarts = this.options.maxRestarts ?? 3;
    if (this.restarts >= maxRestarts) {
      return this.fail(
        new RemoteMediaError(
          'worker_lost',
          `${lost.message}; not restarted: this session was restarted ${this.restarts} times already (maxRestarts ${maxRestarts})`,
        ),
      );
    }
    // Outputs already received are handed on first: they count as answered.
    await this.reading.catch(() => {});
    if (this.failure || this.ended) return;
    const event: RestartedEvent = {
      type: 'restarted',
      reason: lost.message,
      lostGateway: this.gatewayName,
      lostSessionId: this.sessionId,
      gateway: undefined,
      sessionId: '',
      ...this.lostFrames(),
      nodesReset: islandNodeIds(this.island),
      restarts: this.restarts + 1,
    };
    const windowMs = this.options.reconnectWindowMs ?? 20_000;
    const deadline = Date.now() + windowMs;
    for (let attempt = 0; !this.failure && Date.now() < deadline; attempt++) {
      if (attempt > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      }
      if (this.failure) return;
      // A new session: numbering, credit and what the old gateway owed start again.
      this.sent = new ReplayLog();
      this.received = new SequenceTracker();
      this.sentPerPort.fill(0);
      this.granted.fill(0);
      this.resumeKey = undefined;
      this.gatewayName = undefined;
      try {
        this.opened(
          await this.connect(this.openMessage(), upgradeWithin(windowMs, deadline - Date.now())),
        );
      } catch (error) {
        if (error instanceof RemoteMediaError && notReached.has(error)) continue;
        return this.fail(
          new RemoteMediaError(
            'worker_lost',
            `${lost.message}; restarting the island failed: ${asError(error).message}`,
          ),
        );
      }
      this.restarts++;
      this.recovering = false;
      this.framesBefore = [...this.framesSent];
      this.outputsHere.fill(0);
      event.gateway = this.gatewayName;
      event.sessionId = this.sessionId;
      // What the application already ended stays ended on the new gateway.
      for (const port of this.inputEnded) this.sequenced({ type: 'end', port });
      if (this.closing) this.sequenced({ type: 'close' });
      this.handlers.onRestarted?.(event);
      this.waiting.forEach((_, port) => this.wake(port));
      return;
    }
    if (this.failure) return;
    this.fail(
      new RemoteMediaError(
        'worker_lost',
        `${lost.message}; restarting the island found no gateway at ${this.url} within ${windowMs} ms`,
      ),
    );
  }

  /** What the lost gateway was sent and did not answer (RestartedEvent). */
  private lostFrames(): Pick<RestartedEvent, 'lost' | 'sent' | 'received'> {
    const answered = Math.max(0, ...this.outputsHere);
    const lost: RestartedEvent['lost'] = [];
    const sent: RestartedEvent['sent'] = [];
    this.framesSent.forEach((total, port) => {
      const first = this.framesBefore[port]! + 1;
      sent.push({ port, first, last: total });
      const frames: number[] = [];
      for (let frame = first + answered; frame <= total; frame++) frames.push(frame);
      lost.push({ port, frames });
    });
    return { lost, sent, received: [...this.outputsHere] };
  }

  private wake(port: number): void {
    for (const wake of this.waiting[port]!.splice(0)) wake();
  }

  private fail(error: RemoteMediaError): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    this.live = false;
    this.watch(); // stops it
    for (const waiting of this.waiting) for (const wake of waiting.splice(0)) wake();
    this.settle.reject(error);
  }
}

/** WebSocket.OPEN, the same in browsers and the ws package (no global needed). */
const SOCKET_OPEN = 1;

/**
 * Lets go of a socket now: ws's terminate() does at once; a browser's close() on an
 * open socket waits for the peer's close frame, which a stopped gateway never sends
 * (callers stop listening to it first).
 */
function terminate(socket: WebSocket): void {
  const ws = socket as WebSocket & { terminate?: () => void };
  if (typeof ws.terminate === 'function') ws.terminate();
  else socket.close();
}

/** The ids of the nodes an island runs (all of them are reset by a restart). */
function islandNodeIds(island: RemoteIslandSpec): string[] {
  const nodes = (island.manifest as { nodes?: { id?: unknown }[] } | undefined)?.nodes;
  return Array.isArray(nodes) ? nodes.map((node) => String(node?.id)) : [];
}

/** Errors of a connection that reached no gateway's answer: a resume tries again. */
const notReached = new WeakSet<RemoteMediaError>();

/**
 * No gateway answered: before a session exists this is the caller's setting to
 * check (address, port, TLS, origin), so `usage`; `worker_lost` is kept for a
 * session that was running and is lost.
 */
function unreachable(message: string): RemoteMediaError {
  const error = new RemoteMediaError('usage', message);
  notReached.add(error);
  return error;
}

function asError(error: unknown): RemoteMediaError {
  return error instanceof RemoteMediaError
    ? error
    : new RemoteMediaError('worker_lost', String((error as Error)?.message ?? error));
}

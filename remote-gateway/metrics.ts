/**
 * The gateway's counters, rendered in the Prometheus text format for /metrics on
 * the admin listener. Cheap to scrape whatever runs: every series is an aggregate
 * kept up to date as things happen (never a walk over sessions or nodes), and every
 * label value comes from a fixed set in this code (an error kind, a refusal reason),
 * never from a client, so the cardinality is bounded and no tenant's node ids,
 * session ids or addresses appear. The one operator-given label is the gateway's
 * own name (`remotemedia_gateway_info{name=...}`, checked at start-up), so a
 * Prometheus scraping a fleet can tell its gateways apart and join on it.
 */

/** Live values that belong to other parts (the pools, the connection guard). */
export interface GatewayGauges {
  pythonProcesses: number;
  containers: number;
  connections: number;
  /** Connection-level refusals by reason (connection-guard.ts). */
  connectionRefusals: ReadonlyMap<string, number>;
  authFailures: number;
  capacity: { sessions: number; connections: number; pythonProcesses: number };
  /** The warm container pool (container-pool.ts), when containers run here. */
  containerPool?: {
    idle: number;
    warmStarts: number;
    coldStarts: number;
    removed: number;
    removedBroken: number;
  };
  /** This gateway's name in a fleet (`--name`), when it has one. */
  name?: string;
  /** Shutting down after SIGTERM: taking no new sessions (gateway-drain.ts). */
  draining?: boolean;
}

export class GatewayMetrics {
  sessionsTotal = 0;
  sessionsActive = 0;
  /** Nodes of the sessions running now, kept as sessions open and end. */
  nodesActive = 0;
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Upgrades and sessions refused (auth, origin, limits); by reason in `refusals`. */
  refusedTotal = 0;
  resumedTotal = 0;
  /** Barge-in `interrupt` messages taken from clients (each interrupts its session's `bargeIn.to` nodes). */
  interruptsTotal = 0;
  /** Worker processes (CPython, containers) that died or were killed under a session. */
  workersLost = 0;
  /** Faults that escaped every session and reached the last-resort handler (last-resort.ts): a bug. */
  unhandled = 0;
  private readonly errors = new Map<string, number>();
  private readonly refusals = new Map<string, number>();

  countError(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  /** `reason` must come from the gateway's code (a limit's name, 'unauthorized'), never a client. */
  countRefusal(reason: string): void {
    this.refusedTotal++;
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  render(gauges: GatewayGauges): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    const byLabel = (label: string, values: ReadonlyMap<string, number>): [string, number][] =>
      [...values].map(([value, n]) => [`{${label}="${escape(value)}"}`, n]);
    metric(
      'remotemedia_gateway_info',
      'gauge',
      "This gateway: its name in the fleet (--name; '' without one).",
      [[`{name="${escape(gauges.name ?? '')}"}`, 1]],
    );
    metric('remotemedia_draining', 'gauge', '1 while draining after SIGTERM (no new sessions).', [
      ['', gauges.draining ? 1 : 0],
    ]);
    metric('remotemedia_sessions_total', 'counter', 'Sessions opened.', [['', this.sessionsTotal]]);
    metric('remotemedia_sessions_active', 'gauge', 'Sessions running now.', [
      ['', this.sessionsActive],
    ]);
    metric('remotemedia_nodes_active', 'gauge', 'Nodes of the sessions running now.', [
      ['', this.nodesActive],
    ]);
    metric('remotemedia_frames_total', 'counter', 'Data messages, by direction.', [
      ['{direction="in"}', this.framesIn],
      ['{direction="out"}', this.framesOut],
    ]);
    metric('remotemedia_bytes_total', 'counter', 'Data bytes, by direction.', [
      ['{direction="in"}', this.bytesIn],
      ['{direction="out"}', this.bytesOut],
    ]);
    metric(
      'remotemedia_refused_total',
      'counter',
      'Upgrades and sessions refused (auth, origin, limits).',
      [['', this.refusedTotal]],
    );
    metric(
      'remotemedia_refusals_total',
      'counter',
      'Refusals by reason (a limit, unauthorized, origin, protocol).',
      byLabel('reason', this.refusals),
    );
    metric(
      'remotemedia_connections_refused_total',
      'counter',
      'TCP connections refused or closed before authentication, by reason.',
      byLabel('reason', gauges.connectionRefusals),
    );
    metric('remotemedia_auth_failures_total', 'counter', 'Failed authentications.', [
      ['', gauges.authFailures],
    ]);
    metric('remotemedia_connections', 'gauge', 'TCP connections open now.', [
      ['', gauges.connections],
    ]);
    metric(
      'remotemedia_interrupts_total',
      'counter',
      "Barge-in 'interrupt' messages taken from clients.",
      [['', this.interruptsTotal]],
    );
    metric('remotemedia_resumed_total', 'counter', 'Sessions resumed after a dropped connection.', [
      ['', this.resumedTotal],
    ]);
    metric(
      'remotemedia_unhandled_total',
      'counter',
      'Faults caught only by the last-resort handler (a bug: they should fail one session).',
      [['', this.unhandled]],
    );
    metric(
      'remotemedia_errors_total',
      'counter',
      'Sessions ended by an error, by kind.',
      byLabel('kind', this.errors),
    );
    metric(
      'remotemedia_workers_lost_total',
      'counter',
      'Worker processes that died under a session.',
      [['', this.workersLost]],
    );
    metric('remotemedia_python_processes', 'gauge', 'CPython node processes running.', [
      ['', gauges.pythonProcesses],
    ]);
    metric('remotemedia_containers', 'gauge', 'Node containers running a node now.', [
      ['', gauges.containers],
    ]);
    const pool = gauges.containerPool;
    metric('remotemedia_containers_idle', 'gauge', 'Warm containers in the pool, idle.', [
      ['', pool?.idle ?? 0],
    ]);
    metric(
      'remotemedia_container_starts_total',
      'counter',
      "Nodes given a container: warm (an idle pooled container's runner) or cold (a container started for it).",
      [
        ['{start="warm"}', pool?.warmStarts ?? 0],
        ['{start="cold"}', pool?.coldStarts ?? 0],
      ],
    );
    metric(
      'remotemedia_containers_removed_total',
      'counter',
      'Pooled containers removed: idle past the timeout (or at close), or misbehaved (never reused).',
      [
        ['{reason="idle"}', (pool?.removed ?? 0) - (pool?.removedBroken ?? 0)],
        ['{reason="misbehaved"}', pool?.removedBroken ?? 0],
      ],
    );
    // Capacity, for a balancer in front of several gateways.
    metric('remotemedia_capacity', 'gauge', 'Ceilings of this gateway, by resource.', [
      ['{resource="sessions"}', gauges.capacity.sessions],
      ['{resource="connections"}', gauges.capacity.connections],
      ['{resource="python_processes"}', gauges.capacity.pythonProcesses],
    ]);
    return `${lines.join('\n')}\n`;
  }
}

function escape(label: string): string {
  return label.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

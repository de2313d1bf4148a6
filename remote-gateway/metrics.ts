/** The gateway's counters, rendered in the Prometheus text format for /metrics. */
import type { NodeMetricsSnapshot } from '../web/core/index.ts';

export class GatewayMetrics {
  sessionsTotal = 0;
  sessionsActive = 0;
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  refusedTotal = 0;
  resumedTotal = 0;
  /** Faults that escaped every session and reached the last-resort handler (last-resort.ts): a bug. */
  unhandled = 0;
  private readonly errors = new Map<string, number>();

  countError(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  render(
    nodes: readonly NodeMetricsSnapshot[],
    pythonProcesses: number,
    containers: number,
  ): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('remotemedia_sessions_total', 'counter', 'Sessions opened.', [['', this.sessionsTotal]]);
    metric('remotemedia_sessions_active', 'gauge', 'Sessions running now.', [
      ['', this.sessionsActive],
    ]);
    metric('remotemedia_frames_total', 'counter', 'Data messages, by direction.', [
      ['{direction="in"}', this.framesIn],
      ['{direction="out"}', this.framesOut],
    ]);
    metric('remotemedia_bytes_total', 'counter', 'Data bytes, by direction.', [
      ['{direction="in"}', this.bytesIn],
      ['{direction="out"}', this.bytesOut],
    ]);
    metric('remotemedia_refused_total', 'counter', 'Connections refused (auth, origin, limits).', [
      ['', this.refusedTotal],
    ]);
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
      [...this.errors].map(([kind, n]) => [`{kind="${kind}"}`, n]),
    );
    metric('remotemedia_python_processes', 'gauge', 'CPython node processes running.', [
      ['', pythonProcesses],
    ]);
    metric('remotemedia_containers', 'gauge', 'Node containers running.', [['', containers]]);
    metric(
      'remotemedia_node_processing_ms',
      'gauge',
      'Processing time per item of the nodes of running sessions.',
      nodes.flatMap((n) => [
        [`{node="${escape(n.nodeId)}",quantile="0.5"}`, n.processingMs.p50] as [string, number],
        [`{node="${escape(n.nodeId)}",quantile="0.99"}`, n.processingMs.p99] as [string, number],
      ]),
    );
    return `${lines.join('\n')}\n`;
  }
}

function escape(label: string): string {
  return label.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

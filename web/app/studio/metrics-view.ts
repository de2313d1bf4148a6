/** Per-node metrics of a running session as table rows, refreshed while it runs. */
import type { NodeMetricsSnapshot } from '../../index.ts';

export function renderMetrics(body: HTMLTableSectionElement, nodes: NodeMetricsSnapshot[]): void {
  body.replaceChildren();
  for (const node of nodes) {
    const row = body.insertRow();
    row.dataset.node = node.nodeId;
    const rtf = node.realTimeFactor;
    for (const text of [
      node.nodeId,
      String(node.itemsIn),
      String(node.itemsOut),
      `${node.processingMs.p50.toFixed(2)} / ${node.processingMs.p99.toFixed(2)}`,
      rtf === undefined ? '–' : `${(1 / Math.max(rtf, 1e-9)).toFixed(0)}x`,
      `${node.queueDepth} (max ${node.queueHighWater})`,
    ]) {
      row.insertCell().textContent = text;
    }
  }
}

/**
 * A pipeline drawn as its graph: nodes in columns by depth, edges as lines, each
 * node labelled with its id and type. Plain SVG, redrawn when the preset changes.
 */
import { buildGraph, type Manifest } from '../../core/internal.ts';

const SVG = 'http://www.w3.org/2000/svg';
const BOX = { width: 130, height: 40, gapX: 40, gapY: 14 };

export function renderGraph(svg: SVGSVGElement, manifest: Manifest): void {
  const graph = buildGraph(
    manifest.nodes.map((n) => n.id),
    manifest.connections,
  );
  const depth = new Map<string, number>();
  for (const id of graph.order) {
    const upstream = manifest.connections
      .filter((c) => c.to === id)
      .map((c) => depth.get(c.from) ?? 0);
    depth.set(id, upstream.length ? Math.max(...upstream) + 1 : 0);
  }
  const rows = new Map<number, number>();
  const at = new Map<string, { x: number; y: number }>();
  for (const id of graph.order) {
    const column = depth.get(id)!;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    at.set(id, { x: 10 + column * (BOX.width + BOX.gapX), y: 10 + row * (BOX.height + BOX.gapY) });
  }
  const width = 20 + (Math.max(...depth.values()) + 1) * (BOX.width + BOX.gapX);
  const height = 20 + Math.max(...rows.values()) * (BOX.height + BOX.gapY);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.replaceChildren();
  for (const { from, to } of manifest.connections) {
    const a = at.get(from)!;
    const b = at.get(to)!;
    const line = document.createElementNS(SVG, 'line');
    line.setAttribute('x1', String(a.x + BOX.width));
    line.setAttribute('y1', String(a.y + BOX.height / 2));
    line.setAttribute('x2', String(b.x));
    line.setAttribute('y2', String(b.y + BOX.height / 2));
    line.setAttribute('class', 'edge');
    svg.append(line);
  }
  for (const node of manifest.nodes) {
    const { x, y } = at.get(node.id)!;
    const group = document.createElementNS(SVG, 'g');
    group.setAttribute('data-node', node.id);
    if (node.remote) group.setAttribute('class', 'remote');
    const rect = document.createElementNS(SVG, 'rect');
    Object.entries({ x, y, width: BOX.width, height: BOX.height, rx: 6 }).forEach(([k, v]) =>
      rect.setAttribute(k, String(v)),
    );
    const title = document.createElementNS(SVG, 'text');
    title.setAttribute('x', String(x + 8));
    title.setAttribute('y', String(y + 16));
    title.textContent = node.id;
    const type = document.createElementNS(SVG, 'text');
    type.setAttribute('x', String(x + 8));
    type.setAttribute('y', String(y + 32));
    type.setAttribute('class', 'type');
    type.textContent = node.remote ? `${node.node_type} · gateway` : node.node_type;
    group.append(rect, title, type);
    svg.append(group);
  }
}

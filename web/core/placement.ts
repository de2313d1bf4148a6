/**
 * Placement: splits a pipeline into islands, one per place its nodes run (a
 * pipeline worker, the page, later a Python worker or a gateway), and plans the
 * channels that link them.
 *
 * Each island is an ordinary manifest, so any PipelineRunner runs it unchanged:
 * - a node from another island that feeds this one appears as a PassThrough under
 *   its own id (so `context.from` still names the real upstream node), fed by one
 *   channel;
 * - a local node that feeds another island gets a PassThrough sink, whose outputs
 *   go into one channel per (node, destination island);
 * - the pipeline's own sources are fed by a channel from the caller, and each of its
 *   sinks sends into a channel back to the caller.
 */
import type { Manifest, ManifestNode } from './manifest.ts';
import { PassThrough } from './nodes/basic/pass-through.ts';
import type { PreparedPipeline } from './manifest-validation.ts';

/** The island key of whoever sends the pipeline's input and reads its outputs. */
export const CALLER = 'caller';

export interface PlannedChannel {
  readonly id: number;
  /** Island keys (or CALLER) at each end. */
  readonly from: string;
  readonly to: string;
  /** The node whose outputs it carries, or undefined for the pipeline input. */
  readonly node: string | undefined;
}

export interface Island {
  readonly key: string;
  readonly manifest: Manifest;
  /** The pipeline's own nodes in this island (the rest are boundary PassThroughs). */
  readonly nodeIds: readonly string[];
  /** Channels into the island and the local source nodes each one feeds. */
  readonly inputs: readonly { channel: number; sources: readonly string[] }[];
  /** Channels out of the island and the local sink node feeding each one. */
  readonly outputs: readonly { channel: number; sink: string }[];
}

export interface PlacementPlan {
  readonly islands: readonly Island[];
  readonly channels: readonly PlannedChannel[];
  /** The channels carrying the pipeline's outputs to the caller, by sink node id. */
  readonly outputChannels: ReadonlyMap<string, number>;
  /** The channels carrying the pipeline's input from the caller, one per island with sources. */
  readonly inputChannels: readonly number[];
}

/**
 * Plans islands for a validated pipeline. `placeOf` returns the island key of a
 * node; nodes with the same key run together in one session.
 */
export function planPlacement(
  pipeline: PreparedPipeline,
  placeOf: (node: ManifestNode, index: number) => string,
): PlacementPlan {
  const { manifest, graph } = pipeline;
  const place = new Map(manifest.nodes.map((node, i) => [node.id, placeOf(node, i)]));
  const keys = [...new Set(place.values())];
  const taken = new Set(graph.ids);
  const channels: PlannedChannel[] = [];
  const addChannel = (from: string, to: string, node: string | undefined): number => {
    channels.push({ id: channels.length, from, to, node });
    return channels.length - 1;
  };

  const islands = keys.map((key) => {
    const local = manifest.nodes.filter((n) => place.get(n.id) === key);
    return {
      key,
      nodes: local.map((n) => ({ ...n })) as ManifestNode[],
      connections: manifest.connections.filter(
        (c) => place.get(c.from) === key && place.get(c.to) === key,
      ),
      inputs: [] as { channel: number; sources: string[] }[],
      outputs: [] as { channel: number; sink: string }[],
    };
  });
  const islandOf = new Map(islands.map((island) => [island.key, island]));

  const inputChannels: number[] = [];
  for (const island of islands) {
    const sources = graph.sources.filter((id) => place.get(id) === island.key);
    if (sources.length === 0) continue;
    const channel = addChannel(CALLER, island.key, undefined);
    inputChannels.push(channel);
    island.inputs.push({ channel, sources });
  }

  // One channel per (node, destination island) for every edge that crosses islands.
  for (const id of graph.order) {
    const from = islandOf.get(place.get(id)!)!;
    const destinations = [...new Set(graph.downstream.get(id)!.map((next) => place.get(next)!))];
    for (const key of destinations) {
      if (key === from.key) continue;
      const to = islandOf.get(key)!;
      const channel = addChannel(from.key, key, id);
      // Island keys may hold any characters (a gateway's URL); ids may not.
      const sink = freshId(`${id}__to_${key.replace(/[^A-Za-z0-9_.-]+/g, '_')}`, taken);
      from.nodes.push(proxy(sink));
      from.connections.push({ from: id, to: sink });
      from.outputs.push({ channel, sink });
      to.nodes.push(proxy(id));
      for (const next of graph.downstream.get(id)!) {
        if (place.get(next) === key) to.connections.push({ from: id, to: next });
      }
      to.inputs.push({ channel, sources: [id] });
    }
  }

  const outputChannels = new Map<string, number>();
  for (const id of graph.sinks) {
    const island = islandOf.get(place.get(id)!)!;
    const channel = addChannel(island.key, CALLER, id);
    island.outputs.push({ channel, sink: id });
    outputChannels.set(id, channel);
  }

  return {
    islands: islands.map((island) => ({
      key: island.key,
      nodeIds: graph.ids.filter((id) => place.get(id) === island.key),
      manifest: {
        version: manifest.version,
        metadata: { ...manifest.metadata, name: `${manifest.metadata.name} [${island.key}]` },
        nodes: island.nodes.map(withoutPlacement),
        connections: island.connections,
        ...islandBargeIn(manifest.bargeIn, place, island.key, island.connections),
      },
      inputs: island.inputs,
      outputs: island.outputs,
    })),
    channels,
    outputChannels,
    inputChannels,
  };
}

/**
 * An island's share of the barge-in setting: its own `to` nodes, and `from` only
 * if it runs here. Without `from`, the interrupt control arriving through a
 * boundary channel (behind the trigger, from the island of `from`) interrupts them.
 * With `from`, its `to` nodes that it reaches only through another island (the
 * whole manifest's validation checked that it reaches them) are `toAcross`: the
 * trigger interrupts them at once, out of band, as it does the others.
 */
function islandBargeIn(
  setting: Manifest['bargeIn'],
  place: ReadonlyMap<string, string>,
  key: string,
  connections: readonly { from: string; to: string }[],
): Pick<Manifest, 'bargeIn'> {
  if (!setting) return {};
  const here = setting.to.filter((id) => place.get(id) === key);
  const from =
    setting.from !== undefined && place.get(setting.from) === key ? setting.from : undefined;
  // The island of `from` needs the setting to send the interrupt on, even with no `to` here.
  if (here.length === 0 && from === undefined) return {};
  const on = {
    ...(setting.on ? { on: setting.on } : {}),
    ...(setting.staleLimitMs !== undefined ? { staleLimitMs: setting.staleLimitMs } : {}),
  };
  if (from === undefined) return { bargeIn: { ...on, to: here } };
  const inside = reachableInside(from, connections);
  const to = here.filter((id) => inside.has(id));
  const toAcross = here.filter((id) => !inside.has(id));
  return { bargeIn: { from, ...on, to, ...(toAcross.length > 0 ? { toAcross } : {}) } };
}

/** The nodes `id` reaches through an island's own connections. */
function reachableInside(
  id: string,
  connections: readonly { from: string; to: string }[],
): Set<string> {
  const found = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const at = stack.pop()!;
    for (const c of connections) {
      if (c.from === at && !found.has(c.to)) {
        found.add(c.to);
        stack.push(c.to);
      }
    }
  }
  return found;
}

function proxy(id: string): ManifestNode {
  return { id, node_type: PassThrough.type, params: {} };
}

/** Inside its island a node runs where it is; its placement was already used. */
function withoutPlacement(node: ManifestNode): ManifestNode {
  const { executor: _executor, ...rest } = node;
  return rest;
}

function freshId(base: string, taken: Set<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

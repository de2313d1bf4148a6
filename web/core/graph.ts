/**
 * The pipeline graph: adjacency, topological order, cycles and reachability,
 * computed once from node ids and connections. Sources are nodes with no incoming
 * connection (they receive the pipeline input); sinks have no outgoing one (their
 * outputs are the pipeline's outputs).
 */

export interface Connection {
  from: string;
  to: string;
}

export interface PipelineGraph {
  readonly ids: readonly string[];
  readonly upstream: ReadonlyMap<string, readonly string[]>;
  readonly downstream: ReadonlyMap<string, readonly string[]>;
  readonly sources: readonly string[];
  readonly sinks: readonly string[];
  /** Topological order; only complete when `cycles` is empty. */
  readonly order: readonly string[];
  /** Each cycle as a closed walk, e.g. ['a', 'b', 'a']. */
  readonly cycles: readonly string[][];
  /** Nodes no source leads to (only possible behind a cycle). */
  readonly unreachable: readonly string[];
}

/** Connections must name known ids (validation checks that before building). */
export function buildGraph(
  ids: readonly string[],
  connections: readonly Connection[],
): PipelineGraph {
  const upstream = new Map<string, string[]>(ids.map((id) => [id, []]));
  const downstream = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const { from, to } of connections) {
    downstream.get(from)!.push(to);
    upstream.get(to)!.push(from);
  }
  const sources = ids.filter((id) => upstream.get(id)!.length === 0);
  const sinks = ids.filter((id) => downstream.get(id)!.length === 0);

  const indegree = new Map(ids.map((id) => [id, upstream.get(id)!.length]));
  const order: string[] = [];
  const ready = [...sources];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const next of downstream.get(id)!) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }

  const reached = new Set<string>(sources);
  const stack = [...sources];
  while (stack.length > 0) {
    for (const next of downstream.get(stack.pop()!)!) {
      if (!reached.has(next)) {
        reached.add(next);
        stack.push(next);
      }
    }
  }

  return {
    ids,
    upstream,
    downstream,
    sources,
    sinks,
    order,
    cycles: order.length === ids.length ? [] : findCycles(ids, downstream),
    unreachable: ids.filter((id) => !reached.has(id)),
  };
}

/** Tarjan's strongly connected components; each non-trivial one yields one cycle walk. */
function findCycles(ids: readonly string[], downstream: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    for (const next of downstream.get(id)!) {
      if (!index.has(next)) {
        visit(next);
        low.set(id, Math.min(low.get(id)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id)!, index.get(next)!));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component = new Set<string>();
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.add(member);
      } while (member !== id);
      if (component.size > 1 || downstream.get(id)!.includes(id)) {
        cycles.push(walkCycle(id, component, downstream));
      }
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);
  return cycles;
}

/** A closed walk from `start` back to it inside one strongly connected component. */
function walkCycle(
  start: string,
  component: Set<string>,
  downstream: Map<string, string[]>,
): string[] {
  // Breadth-first search for the shortest way back to start, so the message is short.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const next of downstream.get(id)!) {
      if (!component.has(next)) continue;
      if (next === start) {
        const walk = [start];
        for (let at = id; at !== start; at = previous.get(at)!) walk.splice(1, 0, at);
        walk.push(start);
        return walk;
      }
      if (!previous.has(next)) {
        previous.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

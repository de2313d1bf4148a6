/**
 * Manifest validation: structure (zod) and meaning — unique ids, known node
 * types, each node's params against its own schema, placement, connections,
 * cycles and reachability. Every problem found is reported with its JSON path in
 * one ManifestValidationError; a structure problem does not stop the other checks.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { bargeInIssues } from './barge-in.ts';
import { type ManifestIssue, ManifestValidationError } from './errors.ts';
import { buildGraph, type Connection, type PipelineGraph } from './graph.ts';
import {
  formatPath,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestNode,
  manifestSchema,
} from './manifest.ts';
import type { AnyNodeDefinition } from './node-contract.ts';
import type { NodeRegistry } from './node-registry.ts';

/**
 * A manifest that passed validation, with its graph and node definitions resolved:
 * ready to run any number of times without validating again.
 */
export class PreparedPipeline {
  constructor(
    /** The manifest with each node's params replaced by its schema's output. */
    readonly manifest: Manifest,
    readonly graph: PipelineGraph,
    /** Node definition by node id. */
    readonly definitions: ReadonlyMap<string, AnyNodeDefinition>,
  ) {}
}

/**
 * Accepts a manifest object or its JSON text. Throws ManifestValidationError listing
 * every problem: structure, node types, params, placement and connections are all
 * checked in one pass, so a missing `metadata` does not hide an unknown node type.
 */
export function validateManifest(input: unknown, registry: NodeRegistry): PreparedPipeline {
  const json = typeof input === 'string' ? parseJsonText(input) : input;
  const parsed = manifestSchema.safeParse(json);
  const issues: ManifestIssue[] = [];
  if (!parsed.success) {
    // Parse again with the offending values attached, for messages that say what was found.
    const detailed = manifestSchema.safeParse(json, { reportInput: true });
    issues.push(...(detailed.error ?? parsed.error).issues.map(structureIssue));
  }
  const view = parsed.success ? wholeView(parsed.data as Manifest) : partialView(json);
  const definitions = new Map<string, AnyNodeDefinition>();
  const firstIndex = new Map<string, number>();

  for (const { index, node } of view.nodes) {
    const at = `nodes[${index}]`;
    const seen = firstIndex.get(node.id);
    if (seen !== undefined) {
      issues.push({
        code: 'duplicate_id',
        path: `${at}.id`,
        nodeId: node.id,
        message: `duplicate node id '${node.id}' (first used by nodes[${seen}]); ids must be unique`,
      });
    } else {
      firstIndex.set(node.id, index);
    }

    if (node.executor === 'remote' && node.remote === undefined) {
      issues.push({
        code: 'invalid_placement',
        path: `${at}.remote`,
        nodeId: node.id,
        message: 'executor "remote" needs a remote config: {"host": ..., "port": ...}',
      });
    }
    if (node.remote !== undefined && node.executor !== undefined && node.executor !== 'remote') {
      issues.push({
        code: 'invalid_placement',
        path: `${at}.executor`,
        nodeId: node.id,
        message: `executor "${node.executor}" contradicts the remote config; use "remote" or drop "remote"`,
      });
    }

    const definition = registry.get(node.node_type);
    if (!definition) {
      issues.push({
        code: 'unknown_node_type',
        path: `${at}.node_type`,
        nodeId: node.id,
        message: unknownTypeMessage(node.node_type, registry),
      });
      continue;
    }
    definitions.set(node.id, definition);
    if (!isRecord(node.params)) continue; // already reported as a structure problem
    const result = definition.params['~standard'].validate(node.params);
    if (result instanceof Promise) {
      issues.push({
        code: 'invalid_params',
        path: `${at}.params`,
        nodeId: node.id,
        message: `the params schema of '${definition.type}' is asynchronous; node schemas must validate synchronously`,
      });
    } else if (result.issues) {
      for (const issue of result.issues) {
        issues.push(paramsIssue(issue, `${at}.params`, node.id, node.params));
      }
    } else if (parsed.success) {
      // Only the parsed copy is changed: the caller's object stays as it was.
      node.params = result.value as Record<string, unknown>;
    }
  }

  const ids = [...firstIndex.keys()];
  const known = new Set(ids);
  let connectionsOk = view.complete;
  const seenEdges = new Set<string>();
  for (const { index, connection } of view.connections) {
    for (const end of ['from', 'to'] as const) {
      if (!known.has(connection[end])) {
        connectionsOk = false;
        issues.push({
          code: 'unknown_connection_node',
          path: `connections[${index}].${end}`,
          message: `unknown node '${connection[end]}'; node ids are: ${ids.join(', ')}`,
        });
      }
    }
    const key = `${connection.from}\u0000${connection.to}`;
    if (seenEdges.has(key)) {
      connectionsOk = false;
      issues.push({
        code: 'invalid_structure',
        path: `connections[${index}]`,
        message: `duplicate connection ${connection.from} -> ${connection.to}`,
      });
    }
    seenEdges.add(key);
  }

  const edges = view.connections.map((c) => c.connection);
  const graph = buildGraph(ids, connectionsOk ? edges : []);
  // Cycles and reachability mean something only when every node and edge was read.
  if (connectionsOk) {
    for (const cycle of graph.cycles) {
      issues.push({
        code: 'cycle',
        path: 'connections',
        nodeId: cycle[0],
        message: `cycle: ${cycle.join(' -> ')}; pipelines must be acyclic`,
      });
    }
    for (const id of graph.unreachable) {
      issues.push({
        code: 'unreachable',
        path: `nodes[${firstIndex.get(id)}]`,
        nodeId: id,
        message: `node '${id}' is not reachable from any source (a node with no incoming connection)`,
      });
    }
  }

  const bargeIn = parsed.success ? (parsed.data as Manifest).bargeIn : undefined;
  if (bargeIn && connectionsOk) issues.push(...bargeInIssues(bargeIn, graph));

  if (issues.length > 0 || !parsed.success) throw new ManifestValidationError(issues);
  return new PreparedPipeline(parsed.data as Manifest, graph, definitions);
}

/** The nodes and connections the meaning checks can read, with their indices for paths. */
interface ManifestView {
  nodes: { index: number; node: ManifestNode }[];
  connections: { index: number; connection: Connection }[];
  /** Every node and connection entry was readable (the graph checks need them all). */
  complete: boolean;
}

function wholeView(manifest: Manifest): ManifestView {
  return {
    nodes: manifest.nodes.map((node, index) => ({ index, node })),
    connections: manifest.connections.map((connection, index) => ({ index, connection })),
    complete: true,
  };
}

/**
 * What can be read from a manifest that failed the structure check: entries whose
 * id and node_type (or from and to) are strings. Their other problems are already
 * structure issues; the rest of each entry is still checked.
 */
function partialView(json: unknown): ManifestView {
  const view: ManifestView = { nodes: [], connections: [], complete: true };
  if (!isRecord(json)) return { ...view, complete: false };
  const nodes: unknown[] = Array.isArray(json.nodes) ? json.nodes : [];
  nodes.forEach((node, index) => {
    if (isRecord(node) && typeof node.id === 'string' && typeof node.node_type === 'string') {
      view.nodes.push({ index, node: { ...node, params: node.params ?? {} } as ManifestNode });
    } else view.complete = false;
  });
  if (
    !Array.isArray(json.nodes) ||
    (json.connections !== undefined && !Array.isArray(json.connections))
  )
    view.complete = false;
  const connections: unknown[] = Array.isArray(json.connections) ? json.connections : [];
  connections.forEach((connection, index) => {
    if (
      isRecord(connection) &&
      typeof connection.from === 'string' &&
      typeof connection.to === 'string'
    ) {
      view.connections.push({ index, connection: connection as unknown as Connection });
    } else view.complete = false;
  });
  return view;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ManifestValidationError([
      {
        code: 'invalid_structure',
        path: '',
        message: `not valid JSON: ${(error as Error).message}`,
      },
    ]);
  }
}

function describeFound(input: unknown): string {
  if (input === undefined) return 'missing';
  const text = JSON.stringify(input);
  return `found ${text === undefined ? String(input) : text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function structureIssue(issue: {
  path: PropertyKey[];
  message: string;
  input?: unknown;
}): ManifestIssue {
  const path = formatPath(issue.path);
  if (path === 'version') {
    return {
      code: 'invalid_version',
      path,
      message: `${describeFound(issue.input)}; this runtime reads version "${MANIFEST_VERSION}"`,
    };
  }
  return {
    code: 'invalid_structure',
    path,
    message: `${issue.message} (${describeFound(issue.input)})`,
  };
}

function paramsIssue(
  issue: StandardSchemaV1.Issue,
  prefix: string,
  nodeId: string,
  params: Record<string, unknown>,
): ManifestIssue {
  const keys = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p));
  let found: unknown = params;
  for (const key of keys) found = (found as Record<PropertyKey, unknown> | undefined)?.[key];
  const sub = formatPath(keys);
  return {
    code: 'invalid_params',
    path: sub ? `${prefix}${sub.startsWith('[') ? '' : '.'}${sub}` : prefix,
    nodeId,
    message: `${issue.message} (${describeFound(found)})`,
  };
}

function unknownTypeMessage(type: string, registry: NodeRegistry): string {
  const names = registry.names();
  const close = names
    .map((name) => ({ name, distance: editDistance(type.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.distance <= Math.max(2, Math.floor(type.length / 3)))
    .sort((a, b) => a.distance - b.distance);
  const hint = close.length > 0 ? ` Did you mean '${close[0]!.name}'?` : '';
  return `unknown node type '${type}'.${hint} Known types: ${registry.types().join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

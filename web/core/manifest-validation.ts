/**
 * Manifest validation: structure (zod), then meaning — unique ids, known node
 * types, each node's params against its own schema, placement, connections,
 * cycles and reachability. Every problem found is reported with its JSON path in
 * one ManifestValidationError.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type ManifestIssue, ManifestValidationError } from './errors.ts';
import { buildGraph, type PipelineGraph } from './graph.ts';
import { formatPath, MANIFEST_VERSION, type Manifest, manifestSchema } from './manifest.ts';
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

/** Accepts a manifest object or its JSON text. Throws ManifestValidationError. */
export function validateManifest(input: unknown, registry: NodeRegistry): PreparedPipeline {
  const json = typeof input === 'string' ? parseJsonText(input) : input;
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    // Parse again with the offending values attached, for messages that say what was found.
    const detailed = manifestSchema.safeParse(json, { reportInput: true });
    throw new ManifestValidationError((detailed.error ?? parsed.error).issues.map(structureIssue));
  }
  const manifest = parsed.data as Manifest;
  const issues: ManifestIssue[] = [];
  const definitions = new Map<string, AnyNodeDefinition>();
  const firstIndex = new Map<string, number>();

  manifest.nodes.forEach((node, i) => {
    const at = `nodes[${i}]`;
    const seen = firstIndex.get(node.id);
    if (seen !== undefined) {
      issues.push({
        code: 'duplicate_id',
        path: `${at}.id`,
        nodeId: node.id,
        message: `duplicate node id '${node.id}' (first used by nodes[${seen}]); ids must be unique`,
      });
    } else {
      firstIndex.set(node.id, i);
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
      return;
    }
    definitions.set(node.id, definition);
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
    } else {
      node.params = result.value as Record<string, unknown>;
    }
  });

  const ids = [...firstIndex.keys()];
  const known = new Set(ids);
  let connectionsOk = true;
  const seenEdges = new Set<string>();
  manifest.connections.forEach((connection, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!known.has(connection[end])) {
        connectionsOk = false;
        issues.push({
          code: 'unknown_connection_node',
          path: `connections[${i}].${end}`,
          message: `unknown node '${connection[end]}'; node ids are: ${ids.join(', ')}`,
        });
      }
    }
    const key = `${connection.from}\u0000${connection.to}`;
    if (seenEdges.has(key)) {
      connectionsOk = false;
      issues.push({
        code: 'invalid_structure',
        path: `connections[${i}]`,
        message: `duplicate connection ${connection.from} -> ${connection.to}`,
      });
    }
    seenEdges.add(key);
  });

  const graph = buildGraph(ids, connectionsOk ? manifest.connections : []);
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

  if (issues.length > 0) throw new ManifestValidationError(issues);
  return new PreparedPipeline(manifest, graph, definitions);
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

/**
 * What a token lets a session run, checked on the island's manifest as the client
 * sent it — before any node is created, any module imported or any process spawned.
 *
 * Python code reaches the gateway in four shapes, and each is checked here:
 * a PythonNode's `class`, `source` or `pickle`; a class-path node_type
 * ("module:Class", run in a container); a `docker` entry on any node (its node_type
 * names the class); and the gateway's own ContainerPythonNode (params.node).
 * Any other node type must be listed in the token's nodeTypes; PassThrough (the
 * island's own ports, placement.ts) is always allowed.
 */
import { type Manifest, RemoteMediaError } from '../web/core/internal.ts';
import { CONTAINER_NODE } from './container-executor.ts';
import type { GatewayAuthority, GatewayGrants } from './gateway-tokens.ts';

/** How the session's Python must run. */
export interface IslandPermit {
  /** The holder's own code may run: every CPython node of the session is sandboxed. */
  sandboxed: boolean;
}

/** `remotemedia.nodes:Name` for a bare name, as node_host.py reads it. */
export function normalizeClassPath(path: string): string {
  return path.includes(':') ? path : `remotemedia.nodes:${path}`;
}

function classAllowed(grants: GatewayGrants, path: string): boolean {
  const wanted = normalizeClassPath(path);
  const module = wanted.slice(0, wanted.lastIndexOf(':'));
  return grants.classes.some((entry) => {
    const granted = normalizeClassPath(entry);
    return granted === wanted || granted === `${module}:*` || granted === '*';
  });
}

/** The Python a node would run: {class|source|pickle}, or undefined for a TypeScript node. */
function pythonOf(node: Record<string, unknown>): Record<string, unknown> | undefined {
  const type = String(node.node_type);
  const params = (node.params ?? {}) as Record<string, unknown>;
  if (type === 'PythonNode') return params;
  if (type === CONTAINER_NODE) return (params.node ?? {}) as Record<string, unknown>;
  if (node.docker || type.includes(':')) return { class: type };
  return undefined;
}

/**
 * Unpickling runs arbitrary code, so a gateway that does not unpickle refuses a
 * pickle from any token, the operator's too, before any process sees the bytes.
 */
function refusePickles(nodes: readonly unknown[]): void {
  nodes.forEach((entry, at) => {
    const node = (entry ?? {}) as Record<string, unknown>;
    if (pythonOf(node)?.pickle === undefined) return;
    const id = String(node.id ?? at);
    throw new RemoteMediaError(
      'unauthorized',
      `nodes[${at}] ('${id}'): refused a pickled object: this gateway does not unpickle (its operator can allow it with --allow-pickle)`,
      { nodeId: id, path: `nodes[${at}].params.pickle` },
    );
  });
}

/**
 * Refuses (`unauthorized`, naming the node and what grant it needs; `limit` for a
 * ceiling) what the token does not grant; returns how the session must run.
 */
export function authorizeIsland(
  authority: GatewayAuthority,
  manifest: Manifest,
  context: { origin: string | undefined; allowPickle: boolean },
): IslandPermit {
  const nodes: unknown[] = Array.isArray(manifest?.nodes) ? manifest.nodes : [];
  if (!context.allowPickle) refusePickles(nodes);
  if (authority.kind === 'operator') return { sandboxed: false };
  const { grants } = authority;
  if (grants.origins && !(context.origin && grants.origins.includes(context.origin))) {
    throw new RemoteMediaError(
      'unauthorized',
      `this token may be used only from ${grants.origins.join(', ')}, not from ${context.origin ?? 'a client that sends no Origin'}`,
    );
  }
  const refuse = (at: number, id: string, what: string, grant: string) =>
    new RemoteMediaError(
      'unauthorized',
      `nodes[${at}] ('${id}'): ${what} is not granted by this token; it needs ${grant}`,
      { nodeId: id, path: `nodes[${at}]` },
    );
  nodes.forEach((entry, at) => {
    const node = (entry ?? {}) as Record<string, unknown>;
    const id = String(node.id ?? at);
    const type = String(node.node_type);
    if (type === 'PassThrough') return;
    const python = pythonOf(node);
    if (python === undefined) {
      if (!grants.nodeTypes.includes(type) && !grants.nodeTypes.includes('*')) {
        throw refuse(at, id, `node type '${type}'`, `"${type}" in its nodeTypes`);
      }
    } else if (!grants.clientCode) {
      if (python.source !== undefined) {
        throw refuse(at, id, 'inline Python source', 'the clientCode grant');
      }
      if (python.pickle !== undefined) {
        throw refuse(at, id, 'a pickled Python object', 'the clientCode grant');
      }
      if (typeof python.class === 'string' && !classAllowed(grants, python.class)) {
        throw refuse(
          at,
          id,
          `Python class '${normalizeClassPath(python.class)}'`,
          `it in its classes (or the clientCode grant)`,
        );
      }
      if (typeof python.class !== 'string' && python.class !== undefined) {
        throw refuse(at, id, 'a class that is not a "module:Class" string', 'a valid class path');
      }
    }
    const memoryMb = (node.docker as { resource_limits?: { memory_mb?: unknown } } | undefined)
      ?.resource_limits?.memory_mb;
    if (
      grants.maxMemoryMb !== undefined &&
      node.docker &&
      !(typeof memoryMb === 'number' && memoryMb <= grants.maxMemoryMb)
    ) {
      throw new RemoteMediaError(
        'limit',
        `nodes[${at}] ('${id}'): docker.resource_limits.memory_mb must be set and at most ${grants.maxMemoryMb} (this token's ceiling); it is ${JSON.stringify(memoryMb)}`,
        { nodeId: id, path: `nodes[${at}].docker.resource_limits.memory_mb` },
      );
    }
  });
  // Every node counts, PassThrough too: each costs the gateway as much.
  if (grants.maxNodes !== undefined && nodes.length > grants.maxNodes) {
    throw new RemoteMediaError(
      'limit',
      `the island holds ${nodes.length} nodes; this token allows at most ${grants.maxNodes} per session`,
    );
  }
  return { sandboxed: grants.clientCode };
}

/** Sessions held per signed token (its maxSessions grant); operator tokens are not counted here. */
export class TokenSessions {
  private readonly held = new Map<string, number>();

  /** Counts a session of `authority`, or refuses it (`limit`); the result releases it. */
  admit(authority: GatewayAuthority): () => void {
    if (authority.kind === 'operator') return () => {};
    const { tokenId, grants } = authority;
    const count = this.held.get(tokenId) ?? 0;
    if (grants.maxSessions !== undefined && count >= grants.maxSessions) {
      throw new RemoteMediaError(
        'limit',
        `this token holds ${count} sessions already, its ceiling (maxSessions ${grants.maxSessions})`,
      );
    }
    this.held.set(tokenId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(tokenId) ?? 1) - 1;
      if (left > 0) this.held.set(tokenId, left);
      else this.held.delete(tokenId);
    };
  }
}

/**
 * The operator's ceilings: what one session, one token and the whole gateway may
 * take. A manifest may ask for less, never more. Every refusal is a RemoteMediaError
 * of kind 'limit' that names the limit (as its option is spelled), the value asked
 * and the ceiling, so an operator can tell which flag to raise and a client what to
 * ask for instead.
 *
 * The manifest checks run before the manifest is validated or any node is made:
 * they look at raw client data, so anything malformed is left for the validation.
 */
import { type Manifest, RemoteMediaError } from '../web/core/internal.ts';

export interface SessionCeilings {
  /** Nodes in one session's manifest. Default 1024. */
  maxNodesPerSession?: number;
  /** Worker processes (CPython nodes, container nodes) one session may start. Default 16. */
  maxProcessesPerSession?: number;
  /** Sessions open at once under one token. Default 64. */
  maxSessionsPerToken?: number;
  /** Sessions open at once in the whole gateway. Default 512. */
  maxSessions?: number;
}

export interface ContainerCeilings {
  /** Largest `docker.resource_limits.memory_mb` a node may ask for. Default 4096. */
  maxMemoryMb?: number;
  /** Largest `docker.resource_limits.cpu_cores`. Default 2. */
  maxCpuCores?: number;
  /** Images a node may name in `docker.image`. Default: only the executor's default image. */
  allowedImages?: readonly string[];
}

export const SESSION_CEILINGS: Required<SessionCeilings> = {
  maxNodesPerSession: 1024,
  maxProcessesPerSession: 16,
  maxSessionsPerToken: 64,
  maxSessions: 512,
};

export const CONTAINER_CEILINGS = { maxMemoryMb: 4096, maxCpuCores: 2 } as const;

/** The error of every ceiling: `limit` is the option's name, as an operator sets it. */
export function limitError(
  limit: string,
  asked: number | string,
  ceiling: number | string,
  what: string,
  options: { nodeId?: string; path?: string } = {},
): RemoteMediaError {
  return new RemoteMediaError(
    'limit',
    `${what}: ${asked} asked, the ceiling is ${ceiling} (${limit}, set by the gateway's operator)`,
    options,
  );
}

/** Positive integer ceilings, checked once when the gateway starts. */
export function sessionCeilings(given: SessionCeilings = {}): Required<SessionCeilings> {
  const out = { ...SESSION_CEILINGS };
  for (const key of Object.keys(out) as (keyof SessionCeilings)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw new RemoteMediaError('usage', `${key} must be a positive integer, not ${value}`);
    }
    out[key] = value;
  }
  return out;
}

/**
 * Nodes and worker processes a manifest asks for, against the ceilings.
 * `processTypes`: the node types that each start a process (after routing, so a
 * `docker` node is already its container type).
 */
export function checkManifestCeilings(
  manifest: Manifest,
  ceilings: Required<SessionCeilings>,
  processTypes: ReadonlySet<string>,
): { nodes: number; processes: number; byType: Map<string, number> } {
  const nodes: unknown[] = Array.isArray(manifest?.nodes) ? manifest.nodes : [];
  if (nodes.length > ceilings.maxNodesPerSession) {
    throw limitError(
      'maxNodesPerSession',
      nodes.length,
      ceilings.maxNodesPerSession,
      'nodes in one session',
      { path: 'nodes' },
    );
  }
  let processes = 0;
  const byType = new Map<string, number>();
  for (const node of nodes) {
    const type = (node as { node_type?: unknown } | null)?.node_type;
    if (typeof type === 'string' && processTypes.has(type)) {
      processes++;
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
  }
  if (processes > ceilings.maxProcessesPerSession) {
    throw limitError(
      'maxProcessesPerSession',
      processes,
      ceilings.maxProcessesPerSession,
      'worker processes (Python and container nodes) in one session',
      { path: 'nodes' },
    );
  }
  return { nodes: nodes.length, processes, byType };
}

/** A container node's image and resources, against the operator's ceilings. */
export function checkContainerCeilings(
  nodeId: string,
  docker: { image?: unknown; resource_limits?: { memory_mb?: unknown; cpu_cores?: unknown } },
  ceilings: Required<ContainerCeilings>,
  defaultImage: string,
  path = `node '${nodeId}'.docker`,
): void {
  const image = docker.image ?? defaultImage;
  if (!ceilings.allowedImages.includes(String(image))) {
    throw limitError(
      'allowedImages',
      JSON.stringify(image),
      `one of ${ceilings.allowedImages.map((i) => JSON.stringify(i)).join(', ')}`,
      `Node '${nodeId}': container image`,
      { nodeId, path: `${path}.image` },
    );
  }
  const memory = docker.resource_limits?.memory_mb;
  if (typeof memory === 'number' && !(memory <= ceilings.maxMemoryMb)) {
    throw limitError(
      'maxMemoryMb',
      memory,
      ceilings.maxMemoryMb,
      `Node '${nodeId}': container memory in MiB`,
      { nodeId, path: `${path}.resource_limits.memory_mb` },
    );
  }
  const cpus = docker.resource_limits?.cpu_cores;
  if (typeof cpus === 'number' && !(cpus <= ceilings.maxCpuCores)) {
    throw limitError(
      'maxCpuCores',
      cpus,
      ceilings.maxCpuCores,
      `Node '${nodeId}': container CPU cores`,
      { nodeId, path: `${path}.resource_limits.cpu_cores` },
    );
  }
}

/** Container ceilings with their defaults, checked once when the gateway starts. */
export function containerCeilings(
  given: ContainerCeilings,
  defaultImage: string,
  defaults: { memoryMb: number; cpuCores: number },
): Required<ContainerCeilings> {
  const out = {
    maxMemoryMb: given.maxMemoryMb ?? CONTAINER_CEILINGS.maxMemoryMb,
    maxCpuCores: given.maxCpuCores ?? CONTAINER_CEILINGS.maxCpuCores,
    allowedImages: [...(given.allowedImages ?? [defaultImage])],
  };
  if (!(out.maxMemoryMb >= 6)) {
    throw new RemoteMediaError('usage', `maxMemoryMb must be at least 6 (Docker's minimum)`);
  }
  if (!(out.maxCpuCores > 0)) {
    throw new RemoteMediaError('usage', 'maxCpuCores must be positive');
  }
  // The defaults a node gets when it asks for nothing must fit under the ceilings.
  if (defaults.memoryMb > out.maxMemoryMb || defaults.cpuCores > out.maxCpuCores) {
    throw new RemoteMediaError(
      'usage',
      `the default container limits (${defaults.memoryMb} MiB, ${defaults.cpuCores} CPUs) are over the ceilings (${out.maxMemoryMb} MiB, ${out.maxCpuCores} CPUs)`,
    );
  }
  return out;
}

/**
 * Sessions open now, in total, per token and per client address, against their
 * ceilings. admit() counts a session or refuses it; its result releases it (once).
 */
export class SessionAdmissions {
  private total = 0;
  private readonly perToken = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly ceilings: Required<SessionCeilings>,
    private readonly maxPerAddress: number,
  ) {}

  get active(): number {
    return this.total;
  }

  /** `token` names the caller's token (a fingerprint or a signed token's id), never the secret. */
  admit(token: string, address: string): () => void {
    if (this.total >= this.ceilings.maxSessions) {
      throw limitError(
        'maxSessions',
        this.total + 1,
        this.ceilings.maxSessions,
        'sessions open in the whole gateway',
      );
    }
    const ofToken = this.perToken.get(token) ?? 0;
    if (ofToken >= this.ceilings.maxSessionsPerToken) {
      throw limitError(
        'maxSessionsPerToken',
        ofToken + 1,
        this.ceilings.maxSessionsPerToken,
        'sessions open under one token',
      );
    }
    const ofAddress = this.perAddress.get(address) ?? 0;
    if (ofAddress >= this.maxPerAddress) {
      throw limitError(
        'maxSessionsPerClient',
        ofAddress + 1,
        this.maxPerAddress,
        'sessions open from one client address',
      );
    }
    this.total++;
    this.perToken.set(token, ofToken + 1);
    this.perAddress.set(address, ofAddress + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      decrement(this.perToken, token);
      decrement(this.perAddress, address);
    };
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

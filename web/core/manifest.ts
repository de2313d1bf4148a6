/**
 * The pipeline manifest, version v1: the same JSON the original RemoteMedia runtime
 * reads, plus optional per-node placement (`executor`, `remote`, `docker`). Fields this
 * runtime does not know are kept, so manifests written for the original still load.
 */
import { z } from 'zod';
import type { BargeIn } from './barge-in.ts';
import type { Connection } from './graph.ts';

export const MANIFEST_VERSION = 'v1';

/** Where a node runs. `auto` lets the runtime choose from the node type. */
export const EXECUTORS = ['auto', 'worker', 'python', 'main', 'remote'] as const;
export type Executor = (typeof EXECUTORS)[number];

/** How to reach the gateway that runs a remote node (the original RemoteExecutorConfig). */
export interface RemoteConfig {
  host: string;
  port: number;
  ssl_enabled?: boolean;
  max_message_size?: number;
  reconnect?: boolean;
  [extra: string]: unknown;
}

/**
 * Runs a Python node in a container on the gateway (the original's Docker executor).
 * Images are built ahead (no registry at run time): `npm run gateway:image`.
 */
export interface DockerConfig {
  /** Default: the gateway's image, remotemedia-python:latest. */
  image?: string;
  /** Checked against the image's Python ("3.11"). */
  python_version?: string;
  /** Checked to be importable in the image; never installed at run time. */
  python_packages?: string[];
  resource_limits?: { memory_mb?: number; cpu_cores?: number };
  [extra: string]: unknown;
}

export interface ManifestNode {
  id: string;
  node_type: string;
  params: Record<string, unknown>;
  executor?: Executor;
  remote?: RemoteConfig;
  docker?: DockerConfig;
  [extra: string]: unknown;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  metadata: { name: string; description?: string; [extra: string]: unknown };
  nodes: ManifestNode[];
  connections: Connection[];
  /** Barge-in: which output interrupts which nodes (web/core/barge-in.ts). */
  bargeIn?: BargeIn;
  [extra: string]: unknown;
}

const nodeId = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, 'must be letters, digits, "_", ".", ":" or "-"');

const remoteConfigSchema = z.looseObject({
  host: z.string().min(1),
  port: z.int().min(1).max(65535),
  ssl_enabled: z.boolean().optional(),
  max_message_size: z.int().positive().optional(),
  reconnect: z.boolean().optional(),
});

const dockerConfigSchema = z.looseObject({
  image: z.string().min(1).optional(),
  python_version: z
    .string()
    .regex(/^3\.\d+$/, 'must be a Python version such as "3.11"')
    .optional(),
  python_packages: z.array(z.string().min(1)).optional(),
  resource_limits: z
    .looseObject({
      memory_mb: z.number().min(6, "must be at least 6 (Docker's minimum)").optional(),
      cpu_cores: z.number().positive().optional(),
    })
    .optional(),
});

/** The structure of a v1 manifest; node params are checked by each node's own schema. */
export const manifestSchema = z.looseObject({
  version: z.literal(MANIFEST_VERSION),
  metadata: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
  }),
  nodes: z
    .array(
      z.looseObject({
        id: nodeId,
        node_type: z.string().min(1),
        params: z.record(z.string(), z.unknown()).default({}),
        executor: z.enum(EXECUTORS).optional(),
        remote: remoteConfigSchema.optional(),
        docker: dockerConfigSchema.optional(),
      }),
    )
    .min(1, 'a pipeline needs at least one node'),
  connections: z.array(z.looseObject({ from: z.string(), to: z.string() })).default([]),
  // Strict: a misspelt key ("form") would otherwise silently turn barge-in off.
  bargeIn: z
    .strictObject({
      from: z.string().optional(),
      on: z.string().min(1, 'must name an event, such as "speech_start"').optional(),
      // Empty only with `from`: the interrupt flows on, cancelling nothing here (the
      // island of `from` when the other nodes run elsewhere).
      to: z.array(z.string()),
      // Set by placement in an island: `to` nodes reached only through another island.
      toAcross: z.array(z.string()).optional(),
      staleLimitMs: z
        .number()
        .int()
        .positive('must be a positive number of milliseconds, such as 10000')
        .optional(),
    })
    .optional(),
});

/** Formats a path such as ['nodes', 2, 'params', 'operand'] as `nodes[2].params.operand`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      out += /^[A-Za-z_$][\w$]*$/.test(name)
        ? `${out ? '.' : ''}${name}`
        : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

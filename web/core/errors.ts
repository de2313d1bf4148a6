/**
 * The one error family of RemoteMedia Web. Every error the runtime raises is a
 * RemoteMediaError whose `kind` says what went wrong; the fields say where (a
 * manifest path, a node id) and the message says what would be valid. Errors
 * cross worker and network boundaries as plain objects (toJSON / fromJSON).
 */

export type ErrorKind =
  | 'manifest_invalid'
  | 'invalid_data'
  | 'frame_codec'
  | 'node_failed'
  | 'aborted'
  | 'session_closed'
  /** A worker (or process) running part of a session stopped or crashed. */
  | 'worker_lost'
  /** A gateway refused the caller's credentials, or they do not grant what was asked. */
  | 'unauthorized'
  /** A limit was reached: a size, a count, a rate or a ceiling set by an operator. */
  | 'limit'
  /** A peer broke the gateway protocol (or a worker its pipe protocol). */
  | 'protocol'
  | 'usage';

export interface ManifestIssue {
  /** What kind of problem, stable for programs to match on. */
  code:
    | 'invalid_structure'
    | 'invalid_version'
    | 'duplicate_id'
    | 'unknown_node_type'
    | 'invalid_params'
    | 'invalid_placement'
    | 'unknown_connection_node'
    | 'cycle'
    | 'unreachable'
    | 'invalid_barge_in';
  /** JSON path inside the manifest, such as `nodes[2].params.operand`. */
  path: string;
  message: string;
  nodeId?: string;
}

export interface SerializedError {
  kind: ErrorKind;
  message: string;
  nodeId?: string;
  path?: string;
  issues?: ManifestIssue[];
  cause?: SerializedError | { name: string; message: string; stack?: string };
}

export class RemoteMediaError extends Error {
  override name = 'RemoteMediaError';
  readonly kind: ErrorKind;
  /** The node the error belongs to, when there is one. */
  readonly nodeId?: string;
  /** Where in the input the problem is (a manifest path, a byte offset). */
  readonly path?: string;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { nodeId?: string; path?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    if (options.nodeId !== undefined) this.nodeId = options.nodeId;
    if (options.path !== undefined) this.path = options.path;
  }

  toJSON(): SerializedError {
    const out: SerializedError = { kind: this.kind, message: this.message };
    if (this.nodeId !== undefined) out.nodeId = this.nodeId;
    if (this.path !== undefined) out.path = this.path;
    if (this.cause !== undefined) out.cause = serializeCause(this.cause);
    return out;
  }

  /** Rebuilds an error serialized by toJSON on the other side of a boundary. */
  static fromJSON(data: SerializedError): RemoteMediaError {
    const cause =
      data.cause && 'kind' in data.cause ? RemoteMediaError.fromJSON(data.cause) : data.cause;
    const options = { nodeId: data.nodeId, path: data.path, cause };
    switch (data.kind) {
      case 'manifest_invalid':
        return new ManifestValidationError(data.issues ?? [], data.message);
      case 'node_failed':
        return new NodeExecutionError(data.nodeId ?? '?', cause, data.message);
      default:
        return new RemoteMediaError(data.kind, data.message, options);
    }
  }
}

function serializeCause(cause: unknown): SerializedError['cause'] {
  if (cause instanceof RemoteMediaError) return cause.toJSON();
  if (cause instanceof Error)
    return { name: cause.name, message: cause.message, stack: cause.stack };
  return { name: 'Error', message: String(cause) };
}

/** A manifest failed validation. `issues` lists every problem found, each with its path. */
export class ManifestValidationError extends RemoteMediaError {
  override name = 'ManifestValidationError';
  readonly issues: ManifestIssue[];

  constructor(issues: ManifestIssue[], message?: string) {
    super(
      'manifest_invalid',
      message ??
        `Invalid manifest (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues
          .map((i) => `  - ${i.path || '(root)'}: ${i.message}`)
          .join('\n')}`,
      { path: issues[0]?.path },
    );
    this.issues = issues;
  }

  override toJSON(): SerializedError {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** A node threw, or rejected its input; the session it ran in ends with this error. */
export class NodeExecutionError extends RemoteMediaError {
  override name = 'NodeExecutionError';

  constructor(nodeId: string, cause: unknown, message?: string) {
    super('node_failed', message ?? `Node '${nodeId}' failed: ${describeCause(cause)}`, {
      nodeId,
      cause,
    });
  }
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/** Wraps an AbortSignal's reason so callers can tell cancellation from failure. */
export function abortedError(reason: unknown): RemoteMediaError {
  if (reason instanceof RemoteMediaError) return reason;
  return new RemoteMediaError('aborted', `Aborted: ${describeCause(reason ?? 'signal aborted')}`, {
    cause: reason,
  });
}

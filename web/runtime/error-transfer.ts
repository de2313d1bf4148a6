/**
 * Lets RemoteMediaError cross a comlink boundary with its kind, node id, path and
 * issues intact (comlink alone keeps only name and message). Both sides of a
 * worker boundary must call installErrorTransfer before the first call.
 */
import { transferHandlers } from 'comlink';
import { RemoteMediaError, type SerializedError } from '../core/internal.ts';

let installed = false;

export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const fallback = transferHandlers.get('throw')!;
  transferHandlers.set('throw', {
    canHandle: fallback.canHandle,
    serialize(thrown) {
      const { value } = thrown as { value: unknown };
      if (value instanceof RemoteMediaError) return [{ remoteMediaError: value.toJSON() }, []];
      return fallback.serialize(thrown);
    },
    deserialize(serialized) {
      const wire = serialized as { remoteMediaError?: SerializedError };
      if (wire?.remoteMediaError) throw RemoteMediaError.fromJSON(wire.remoteMediaError);
      return fallback.deserialize(serialized);
    },
  });
}

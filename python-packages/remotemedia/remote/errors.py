"""The gateway's errors on the Python side: the same `kind` strings as the runtime's
RemoteMediaError (web/core/errors.ts), and a class for each kind a caller is likely
to handle differently, so `except UnauthorizedError` works as `error.kind ===
'unauthorized'` does in TypeScript."""

from __future__ import annotations

from typing import Any, Dict, Optional


class RemoteExecutionError(RuntimeError):
    """The gateway refused or ended a session. `kind`, `node_id` and `path` as in the
    runtime's errors; the message says what was wrong and what would be valid."""

    kind: Optional[str] = None

    def __init__(self, error: Dict[str, Any]) -> None:
        super().__init__(error.get("message", "remote error"))
        self.kind = error.get("kind", type(self).kind)
        self.node_id = error.get("nodeId")
        self.path = error.get("path")
        #: For kind "manifest_invalid": every problem, each {code, path, message, nodeId}.
        self.issues = error.get("issues") or []


class UnauthorizedError(RemoteExecutionError):
    """The token is missing, wrong, expired, or does not grant what was asked."""

    kind = "unauthorized"


class LimitError(RemoteExecutionError):
    """A size, count, rate or operator ceiling was reached."""

    kind = "limit"


class ProtocolError(RemoteExecutionError):
    """A peer broke the gateway protocol (a gap in the numbering, a bad message)."""

    kind = "protocol"


class WorkerLostError(RemoteExecutionError):
    """The session was lost with its gateway (it died, or the session could not be
    resumed or restarted); the message names the session and the gateway."""

    kind = "worker_lost"


_BY_KIND = {cls.kind: cls for cls in (UnauthorizedError, LimitError, ProtocolError, WorkerLostError)}


def remote_error(error: Dict[str, Any]) -> RemoteExecutionError:
    """The exception for a serialized gateway error ({kind, message, nodeId, path})."""
    if not isinstance(error, dict):
        error = {"kind": "protocol", "message": f"the gateway sent an error that is not an object: {error!r}"}
    return _BY_KIND.get(error.get("kind"), RemoteExecutionError)(error)


def protocol_error(message: str) -> ProtocolError:
    return ProtocolError({"kind": "protocol", "message": message})


def worker_lost(message: str) -> WorkerLostError:
    return WorkerLostError({"kind": "worker_lost", "message": message})

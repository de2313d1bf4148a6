"""Restarting a session whose gateway is lost (RemoteExecutorConfig.restart_on_loss),
as the TypeScript client's restartOnLoss does (web/runtime/remote/gateway-connection.ts):
what a restart reports (RestartedEvent, the same fields in Python's names) and the
count of frames that says which were lost (FrameLedger)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class RestartedEvent:
    """The session was lost with its gateway and opened again elsewhere (behind a
    balancer, the next live gateway); it carried on with the next frame. Frames are
    numbered from 1 over the whole session (the n-th input sent), whichever gateway
    they went to."""

    #: Why the old session was lost (the error it would have ended with).
    reason: str
    #: The lost gateway's name in the fleet (`opened.gateway`), when it had one.
    lost_gateway: Optional[str]
    lost_session_id: str
    #: The gateway and session that run the island now.
    gateway: Optional[str]
    session_id: str
    #: Per input port, the frames sent to the lost gateway whose results never came
    #: back: matched in order, the n-th output answers the n-th input (true of
    #: per-frame nodes). They are not resent. Each {"port": p, "frames": [...]}.
    lost: List[Dict[str, Any]]
    #: Per input port, what the lost gateway was sent: {"port": p, "first": n, "last": m}.
    sent: List[Dict[str, Any]]
    #: Per output port, the outputs received from the lost gateway.
    received: List[int]
    #: Every node of the island started afresh: whatever state they held is gone.
    nodes_reset: List[str]
    #: Restarts of this session so far, this one included.
    restarts: int
    type: str = field(default="restarted")

    def to_json(self) -> Dict[str, Any]:
        """The TypeScript client's RestartedEvent, field for field (camelCase)."""
        return {
            "type": self.type, "reason": self.reason,
            "lostGateway": self.lost_gateway, "lostSessionId": self.lost_session_id,
            "gateway": self.gateway, "sessionId": self.session_id,
            "lost": self.lost, "sent": self.sent, "received": self.received,
            "nodesReset": self.nodes_reset, "restarts": self.restarts,
        }


class FrameLedger:
    """Frames sent on the client's one input port over the whole session, and
    outputs received from the gateway serving it now. Counted when a frame is written
    to a socket, not when it is handed to send(): a frame that waited out a restart
    went to the new gateway and is not lost."""

    def __init__(self, outputs: int) -> None:
        self.sent = 0
        #: Frames sent before the current gateway's first.
        self.before = 0
        self.received_here = [0] * max(outputs, 1)

    def frame_sent(self) -> None:
        self.sent += 1

    def output(self, port: int) -> None:
        if port >= len(self.received_here):
            self.received_here.extend([0] * (port + 1 - len(self.received_here)))
        self.received_here[port] += 1

    def lost_frames(self) -> Dict[str, Any]:
        """What the gateway now lost was sent and did not answer (RestartedEvent's
        lost, sent and received)."""
        answered = max(self.received_here)
        first = self.before + 1
        return {
            "lost": [{"port": 0, "frames": list(range(first + answered, self.sent + 1))}],
            "sent": [{"port": 0, "first": first, "last": self.sent}],
            "received": list(self.received_here),
        }

    def moved(self) -> None:
        """The session now runs on another gateway: its count of outputs starts again."""
        self.before = self.sent
        self.received_here = [0] * len(self.received_here)


def island_node_ids(manifest: Dict[str, Any]) -> List[str]:
    """The ids of the nodes an island runs (a restart resets all of them)."""
    nodes = manifest.get("nodes") if isinstance(manifest, dict) else None
    return [str(node.get("id")) for node in nodes if isinstance(node, dict)] if isinstance(nodes, list) else []

"""The gateway protocol's constants, as web/core/gateway-protocol.ts defines them
(GATEWAY_PROTOCOL_VERSION, GATEWAY_WINDOW, GATEWAY_ACK_EVERY, GATEWAY_MORE_PARTS).
Python cannot import the TypeScript definition, so these are copies in one place;
tests/node/python-protocol-constants.test.ts fails when they drift from it."""

#: The protocol version sent in `open` and `resume`.
PROTOCOL_VERSION = 2
#: Frames a client may have in flight per input port before it waits for credit.
WINDOW = 64
#: With resume on, an `ack` goes out after every ACK_EVERY numbered items received.
ACK_EVERY = 16
#: Bit 15 of a binary message's 2-byte port header: more parts of this frame follow.
MORE_PARTS = 0x8000
#: The other 15 bits: the port.
PORT_MASK = 0x7FFF
#: The `heartbeat` message exactly as the gateway sends it, to a client that asked
#: (`heartbeatMs` in `open`/`resume`) on every interval in which it sent nothing else.
HEARTBEAT_TEXT = '{"type":"heartbeat"}'
#: The shortest and longest heartbeat interval a client may ask for (ms).
HEARTBEAT_MIN_MS = 100
HEARTBEAT_MAX_MS = 900_000

/**
 * A gateway on loopback for capacity measurements: one token, and the operator's
 * ceilings (sessions per client, per token, in all; connections per address) lifted
 * out of the way, since capacity is what is measured. Used by gateway-sweep.ts,
 * gateway-profile.ts and gateway-heap.ts.
 */
import { startGateway } from '../remote-gateway/gateway.ts';

export function startCapacityGateway(token: string): ReturnType<typeof startGateway> {
  return startGateway({
    port: 0,
    tokens: [token],
    maxSessionsPerClient: 10_000,
    maxSessionsPerToken: 10_000,
    maxSessions: 10_000,
    maxConnectionsPerAddress: 10_000,
  });
}

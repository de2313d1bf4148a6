/**
 * For the gateway benchmark scripts run on their own (`npx tsx bench/gateway-profile.ts
 * 300`, bench/gateway-heap.ts): when this process lacks the gateway's Node flags
 * (remote-gateway/node-flags.ts), runs the same script again with them, as `npm run
 * gateway` starts a gateway, and exits with its status. GATEWAY_BENCH_NODE_FLAGS=0
 * runs it as it is (to compare without them).
 */
import { spawnSync } from 'node:child_process';
import { GATEWAY_NODE_FLAGS } from '../remote-gateway/node-flags.ts';

export function runWithGatewayFlags(): void {
  if (process.env.GATEWAY_BENCH_NODE_FLAGS === '0') return;
  if (GATEWAY_NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) return;
  const run = spawnSync(
    process.execPath,
    [...GATEWAY_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(run.status ?? 1);
}

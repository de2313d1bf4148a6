/**
 * The gateway benchmark (bench/gateway-sweep.ts), run in a process of its own started
 * as `npm run gateway` starts a gateway: with the gateway's Node flags
 * (remote-gateway/node-flags.ts), and with nothing else loaded. In this process the
 * other benchmarks' modules are loaded too (about 57 MB of live heap more than a
 * gateway has), which changed when and how often V8 collected the gateway's old
 * generation. GATEWAY_BENCH_NODE_FLAGS=0 starts it without the flags (to compare).
 */
import { spawn } from 'node:child_process';
import { GATEWAY_NODE_FLAGS } from '../remote-gateway/node-flags.ts';
import type { BenchSection } from './report.ts';

export async function benchGateway(): Promise<BenchSection> {
  const flags = process.env.GATEWAY_BENCH_NODE_FLAGS === '0' ? [] : GATEWAY_NODE_FLAGS;
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'bench/gateway-sweep.ts'], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  let json = '';
  child.stdio[3]!.on('data', (chunk: Buffer) => (json += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0 || !json) throw new Error(`bench/gateway-sweep.ts failed (exit ${code})`);
  return JSON.parse(json) as BenchSection;
}

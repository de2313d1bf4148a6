/**
 * The Node flags the gateway's process is started with, by every launcher of it: `npm
 * run gateway` (package.json), `npm start`'s gateway (scripts/serve-demo.sh), the
 * `remotemedia-gateway` command (main.ts's first line), each gateway of `npm run
 * gateway:cluster` (deploy/cluster.ts) and the capacity benchmark (bench/gateway.bench.ts). node-flags.test.ts checks that they all carry
 * these. Node refuses them in NODE_OPTIONS, so they go on the command line.
 *
 * `--initial-old-space-size=128`: a floor of 128 MB under V8's old-generation limit.
 * A gateway's live heap is small (about 20 MB at 300 sessions) and what it promotes
 * is steady (tens of bytes per frame: 0.3–1.5 MB/s at 300 sessions); V8 sizes the
 * limit from the live heap, so it stays a few MB above it and V8 marks and compacts
 * again and again: 9–42 mark-compacts per 10 s at 300 sessions (each 100–250 ms of
 * concurrent marking on the other threads, 6–18 ms of pause), and every window with
 * them fell behind (docs/BENCHMARKS.md, gateway section). With the floor V8 skips
 * full collections below 128 MB of old generation: none in those windows. The cost
 * is up to 128 MB of garbage held before a collection.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

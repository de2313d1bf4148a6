import { spawn } from 'node:child_process';

/**
 * The Node flags the gateway's process is started with, by every launcher of it: `npm
 * run gateway` (package.json), `npm start`'s gateway (scripts/serve-demo.sh), each
 * gateway of `npm run gateway:cluster` (deploy/cluster.ts) and the capacity benchmark
 * (bench/gateway.bench.ts) pass them; the `remotemedia-gateway` command, or `node
 * dist/remote-gateway/main.js` started without them, starts itself again with them
 * (relaunchWithGatewayFlags). node-flags.test.ts checks them all. Node refuses them in
 * NODE_OPTIONS, so they go on the command line.
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

/** Set for the relaunched process (and `=0` by whoever wants the gateway run as started). */
const RELAUNCH_ENV = 'REMOTEMEDIA_GATEWAY_NODE_FLAGS';

/** Whether `execArgv` sets every flag, to any value (a user's own `--initial-old-space-size=512` counts). */
export function hasGatewayFlags(execArgv: readonly string[]): boolean {
  const name = (flag: string) => flag.split('=')[0]!.replaceAll('_', '-');
  const given = new Set(execArgv.map(name));
  return GATEWAY_NODE_FLAGS.every((flag) => given.has(name(flag)));
}

/**
 * For main.ts, before anything starts. A shebang cannot carry the flags everywhere:
 * `#!/usr/bin/env -S node …` fails at once where env has no -S (BusyBox's, so every
 * Alpine image: "env: invalid option -- 'S'"), and `node dist/remote-gateway/main.js`
 * (a Dockerfile's CMD, systemd, pm2) never reads the shebang. So when this process
 * lacks them, it runs the same script again as a child with them and returns a promise
 * that never settles: this process only passes SIGTERM, SIGINT and SIGHUP on (SIGTERM
 * drains, as before) and exits as the child did; the child exits if this process dies
 * (its IPC channel closes, a SIGKILL included), so no gateway is left behind. Returns
 * undefined to run here: the flags are there, Node runs under --inspect, or
 * REMOTEMEDIA_GATEWAY_NODE_FLAGS is set (by the relaunch itself, so it happens once;
 * `0` by a user to opt out).
 */
export function relaunchWithGatewayFlags(): Promise<never> | undefined {
  // Under --inspect (given or in NODE_OPTIONS) a debugger would attach to this process,
  // not the gateway (the child's inspector port is taken): run here, as started.
  const inspecting = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) =>
    arg.includes('--inspect'),
  );
  if (process.env[RELAUNCH_ENV] !== undefined || inspecting || hasGatewayFlags(process.execArgv)) {
    if (process.env[RELAUNCH_ENV] === 'relaunched' && process.channel) {
      process.channel.unref(); // the channel only tells of the parent's end
      process.once('disconnect', () => process.exit(1));
    }
    return undefined;
  }
  const child = spawn(
    process.execPath,
    [...GATEWAY_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)],
    {
      // A process group of its own: a signal sent to the group this process is in (a
      // terminal's Ctrl-C, `kill -- -PGID`) reaches the gateway once, passed on from
      // here, not twice (a second SIGTERM would cut the drain short). Not on Windows,
      // where it would open a console of its own.
      detached: process.platform !== 'win32',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [RELAUNCH_ENV]: 'relaunched' },
    },
  );
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.once('error', (error) => {
    console.error(
      `remotemedia-gateway: cannot start node ${GATEWAY_NODE_FLAGS.join(' ')}: ${error.message}`,
    );
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (code !== null) process.exit(code);
    // Ended by a signal: end the same way, so a supervisor sees what it would have.
    for (const s of signals) process.removeAllListeners(s);
    process.kill(process.pid, signal ?? 'SIGTERM');
  });
  return new Promise<never>(() => {});
}

/**
 * A Docker engine for the container tests: the one already running, or dockerd
 * started here (as TOOLCHAIN.md describes: no bridge, no iptables) and stopped by its
 * pid after. Says why when neither is possible, so a skip states its reason.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type DockerEngine = { stop(): Promise<void> } | { unavailable: string };

async function reachable(): Promise<boolean> {
  return run('docker', ['version', '--format', '{{.Server.Version}}']).then(
    () => true,
    () => false,
  );
}

export async function dockerEngine(): Promise<DockerEngine> {
  if (await reachable()) return { stop: async () => {} };
  const which = await run('sh', ['-c', 'command -v dockerd']).catch(() => undefined);
  if (!which)
    return { unavailable: 'dockerd is not installed (Debian: apt-get install docker.io)' };
  if (process.getuid?.() !== 0) return { unavailable: 'dockerd must be started as root' };
  const daemon = spawn('dockerd', ['--bridge=none', '--iptables=false'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    if (await reachable()) {
      return {
        async stop() {
          daemon.kill('SIGTERM');
          await exited;
        },
      };
    }
    if (daemon.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  daemon.kill('SIGKILL');
  return { unavailable: 'dockerd did not start within 20 s' };
}

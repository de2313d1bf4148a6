/**
 * A project outside the repository that sees only the packed tarball and the
 * registry: `npm pack` of this checkout (after `npm run build`), then a new
 * project installing the tarball with the bundlers under test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const exec = promisify(execFile);

/** Runs a shell command line in `cwd`, as the docs write it. */
export async function sh(cwd: string, command: string): Promise<string> {
  const { stdout } = await exec('sh', ['-c', command], { cwd, maxBuffer: 64 << 20 });
  return stdout;
}

export async function packedProject(devDependencies: string[]): Promise<string> {
  for (const built of [
    'dist/web/index.js',
    'dist/workers/pipeline-worker.js',
    'dist/browser/remotemedia-web.js',
  ]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first`);
  }
  const root = mkdtempSync(join(tmpdir(), 'rm-pack-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', root], {
    maxBuffer: 64 << 20,
  });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  const project = join(root, 'app');
  await exec('mkdir', ['-p', project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'bundler-apps', private: true, type: 'module' }, null, 2),
  );
  await exec(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      resolve(root, filename),
      ...devDependencies,
    ],
    { cwd: project, maxBuffer: 64 << 20 },
  );
  return project;
}

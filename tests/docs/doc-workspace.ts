/**
 * Where a doc's blocks run: a temporary directory outside the repository in which
 * `remotemedia-web` resolves to this checkout (node_modules/remotemedia-web links
 * here, beside links to the checkout's own dependencies) and the package's
 * commands are on PATH as an install puts them (node_modules/.bin).
 * - 'checkout': the checkout's top-level files and folders are linked in too, so
 *   the README's `examples/...` and `dist/...` paths work while what the blocks
 *   write (an --out-dir, say) stays in the workspace.
 * - 'project': an empty project ({"type": "module"}), as a new user starts one.
 */
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');

export type WorkspaceKind = 'checkout' | 'project';

export function makeWorkspace(kind: WorkspaceKind, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rm-doc-${name.replace(/\W+/g, '-')}-`));
  if (kind === 'checkout') {
    for (const entry of readdirSync(REPO)) {
      if (entry === 'node_modules' || entry === '.git') continue;
      // pip builds a local project in place (build/, *.egg-info): a copy keeps the checkout clean.
      if (entry === 'python-packages') {
        cpSync(join(REPO, entry), join(dir, entry), {
          recursive: true,
          filter: (path) => !/(__pycache__|\/build|\.egg-info)$/.test(path),
        });
        continue;
      }
      symlinkSync(join(REPO, entry), join(dir, entry));
    }
  } else {
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'doc-test-app', private: true, type: 'module' }, null, 2)}\n`,
    );
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry === '.bin' || entry.startsWith('.')) continue;
    symlinkSync(join(REPO, 'node_modules', entry), join(modules, entry));
  }
  symlinkSync(REPO, join(modules, 'remotemedia-web'));
  for (const tool of readdirSync(join(REPO, 'node_modules', '.bin'))) {
    symlinkSync(join(REPO, 'node_modules', '.bin', tool), join(modules, '.bin', tool));
  }
  // The package's own commands, as npm links them at install.
  const { bin = {} } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  for (const [command, target] of Object.entries(bin)) {
    const script = join(modules, '.bin', command);
    writeFileSync(script, `#!/bin/sh\nexec node ${JSON.stringify(join(REPO, target))} "$@"\n`);
    chmodSync(script, 0o755);
  }
  return dir;
}

/**
 * Deletes a workspace. Its links into the checkout are unlinked first, one by one,
 * so that nothing can ever delete through them.
 */
export function removeWorkspace(dir: string): void {
  const unlinkLinks = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
    }
  };
  const modules = join(dir, 'node_modules');
  unlinkLinks(join(modules, '.bin'));
  unlinkLinks(modules);
  unlinkLinks(dir);
  rmSync(dir, { recursive: true, force: true });
}

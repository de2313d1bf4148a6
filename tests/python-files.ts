/** The python-packages sources, read from disk, for Pyodide in Node. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export function pythonPackageFiles(root = 'python-packages'): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== '__pycache__') walk(path);
      else if (entry.name.endsWith('.py')) files[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return files;
}

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * web/core must run unchanged in a Worker, in Node and in the gateway. Its own
 * tsconfig (ES library only) rejects platform globals; this test rejects imports
 * that leave web/core or pull in anything but the core's own dependencies.
 */
const CORE = dirname(fileURLToPath(import.meta.url));
const ALLOWED_PACKAGES = ['zod', '@standard-schema/spec'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
}

describe('web/core boundary', () => {
  const files = sources(CORE);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(CORE, f), f]))(
    '%s imports only core files and allowed packages',
    (_, file) => {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          expect(relative(CORE, target).startsWith('..'), `${specifier} leaves web/core`).toBe(
            false,
          );
        } else {
          expect(ALLOWED_PACKAGES, `${specifier} is not a core dependency`).toContain(specifier);
        }
      }
    },
  );
});

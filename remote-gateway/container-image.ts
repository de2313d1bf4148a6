/**
 * Builds the container image of the container executor without a registry: a root
 * filesystem assembled from this machine's python3 (the interpreter, the shared
 * libraries it and its extension modules load, the standard library) plus the
 * remotemedia package, imported with `docker import`. About 65 MB; a few seconds.
 */
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PYTHON_PACKAGES } from './package-files.ts';

const run = promisify(execFile);
const PACKAGE = join(PYTHON_PACKAGES, 'remotemedia');

export const DEFAULT_IMAGE = 'remotemedia-python:latest';
/** The image label holding its Python version ("3.11"), checked against docker.python_version. */
export const PYTHON_LABEL = 'org.remotemedia.python';

/** Standard-library parts a node runner never needs. */
const LEFT_OUT = new Set([
  'test',
  'idlelib',
  'tkinter',
  'turtledemo',
  'ensurepip',
  'lib2to3',
  'site-packages',
  'dist-packages',
  '__pycache__',
]);

export interface ImageOptions {
  tag?: string;
  docker?: string;
  python?: string;
}

export async function buildPythonImage(options: ImageOptions = {}): Promise<string> {
  const tag = options.tag ?? DEFAULT_IMAGE;
  const docker = options.docker ?? 'docker';
  const python = options.python ?? '/usr/bin/python3';
  const { stdout } = await run(python, [
    '-c',
    'import sys, sysconfig; print(sys.executable); print(sysconfig.get_paths()["stdlib"]); print("%d.%d" % sys.version_info[:2])',
  ]);
  const [executable, stdlib, version] = stdout.trim().split('\n') as [string, string, string];
  const root = mkdtempSync(join(tmpdir(), 'remotemedia-rootfs-'));
  try {
    const binary = (await run('readlink', ['-f', executable])).stdout.trim();
    const dynload = join(stdlib, 'lib-dynload');
    const extensions = readdirSync(dynload)
      .filter((f) => f.endsWith('.so'))
      .map((f) => join(dynload, f));
    // Every shared library the interpreter and its extension modules load, by the path
    // the loader found: the same paths inside the image.
    const ldd = await run('ldd', [binary, ...extensions], { maxBuffer: 16 << 20 });
    const libraries = new Set(ldd.stdout.match(/\/\S+\.so[.\d]*(?=\s|$)/gm) ?? []);
    for (const file of [binary, ...libraries]) {
      mkdirSync(join(root, dirname(file)), { recursive: true });
      cpSync(file, join(root, file), { dereference: true });
    }
    cpSync(stdlib, join(root, stdlib), {
      recursive: true,
      dereference: true,
      filter: (source) => !LEFT_OUT.has(source.slice(source.lastIndexOf('/') + 1)),
    });
    symlinkSync(binary.slice(binary.lastIndexOf('/') + 1), join(root, dirname(binary), 'python3'));
    // Sticky and world-writable, as /tmp always is: the tmpfs a container mounts
    // there takes this mode, and nodes (uid 65534) write their scratch files in it.
    mkdirSync(join(root, 'tmp'));
    chmodSync(join(root, 'tmp'), 0o1777);
    cpSync(PACKAGE, join(root, 'opt/remotemedia/remotemedia'), {
      recursive: true,
      filter: (source) => !source.endsWith('__pycache__'),
    });
    await importRootfs(docker, root, tag, [
      'ENV PATH=/usr/bin:/bin',
      'ENV PYTHONPATH=/opt/remotemedia',
      'WORKDIR /tmp',
      `LABEL ${PYTHON_LABEL}=${version}`,
    ]);
    return tag;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** `tar -C root -c . | docker import --change ... - tag` */
function importRootfs(docker: string, root: string, tag: string, changes: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const importer = spawn(
      docker,
      ['import', ...changes.flatMap((c) => ['--change', c]), '-', tag],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    importer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    tar.stdout.pipe(importer.stdin);
    importer.on('error', reject);
    importer.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`docker import failed (code ${code}): ${stderr.trim()}`)),
    );
  });
}

import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeAssetFiles } from '../../web/vite/vite-plugin.ts';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';

/**
 * The browser's PocketSphinx build (scripts/build-pocketsphinx.sh, run by `npm run
 * build:wasm`) as the runtime serves it: the module, its wasm and Debian's en-us model
 * found through the assets list (web/vite/vite-plugin.ts), loaded in Node, decoding
 * espeak-ng speech through glue.c's functions. Then the build script itself: its
 * up-to-date check, and the error it gives when a tool is missing.
 */
const run = promisify(execFile);
const SCRIPT = 'scripts/build-pocketsphinx.sh';
const GRAMMAR = `#JSGF V1.0;
grammar commands;
public <command> = (turn on | turn off) the (light | radio | television) | what time is it;
`;

/** What the tests use of the emscripten module (the rest is glue.c's, through ccall). */
interface PocketSphinxModule {
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: Uint8Array): void };
  HEAP16: Int16Array;
  ccall(
    name: string,
    returns: 'number' | 'string' | null,
    types: string[],
    args: unknown[],
  ): unknown;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

function asset(name: string): string {
  const file = runtimeAssetFiles().get(`pocketsphinx/${name}`);
  if (!file)
    throw new Error(`pocketsphinx/${name} is not in the assets list: run "npm run build:wasm"`);
  return file;
}

describe('PocketSphinx built to wasm, from the runtime assets folder', () => {
  let ps: PocketSphinxModule;
  let decoder: number;

  beforeAll(async () => {
    const { default: create } = (await import(pathToFileURL(asset('pocketsphinx.mjs')).href)) as {
      default: (options: { printErr(line: string): void }) => Promise<PocketSphinxModule>;
    };
    // The decoder writes its configuration to stderr as it starts: kept out of the report.
    ps = await create({ printErr: () => {} });
    ps.FS.mkdirTree('/model/en-us');
    for (const [name, file] of runtimeAssetFiles()) {
      if (name.startsWith('pocketsphinx/model/en-us/')) {
        ps.FS.writeFile(`/model/en-us/${name.split('/').pop()!}`, readFileSync(file));
      }
    }
    ps.FS.writeFile('/model/cmudict-en-us.dict', readFileSync(asset('model/cmudict-en-us.dict')));
    decoder = ps.ccall(
      'psw_new',
      'number',
      ['string', 'string'],
      ['/model/en-us', '/model/cmudict-en-us.dict'],
    ) as number;
  }, 60_000);

  afterAll(() => {
    if (ps && decoder) ps.ccall('psw_free', null, ['number'], [decoder]);
  });

  it('lists every file of the folder, the dictation model among them', () => {
    const names = [...runtimeAssetFiles().keys()].filter((name) =>
      name.startsWith('pocketsphinx/'),
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'pocketsphinx/pocketsphinx.mjs',
        'pocketsphinx/pocketsphinx.wasm',
        'pocketsphinx/model/en-us/mdef',
        'pocketsphinx/model/cmudict-en-us.dict',
        'pocketsphinx/model/en-us.lm.bin',
      ]),
    );
    for (const name of names)
      expect(statSync(asset(name.slice('pocketsphinx/'.length))).size, name).toBeGreaterThan(0);
  });

  it('reads an espeak-ng command back exactly with a JSGF grammar', () => {
    expect(decoder, String(ps.ccall('psw_last_error', 'string', [], []))).not.toBe(0);
    const set = ps.ccall(
      'psw_set_jsgf',
      'number',
      ['number', 'string', 'string'],
      [decoder, 'commands', GRAMMAR],
    );
    expect(set, String(ps.ccall('psw_last_error', 'string', [], []))).toBeGreaterThanOrEqual(0);

    const { wav } = makeSpeechFixture(['turn off the radio'], [0.3, 0.3], 16000);
    const pcm = Int16Array.from(wav.samples, (s) =>
      Math.max(-32768, Math.min(32767, Math.round(s * 32768))),
    );
    const pointer = ps._malloc(pcm.byteLength);
    try {
      expect(ps.ccall('psw_start', 'number', ['number'], [decoder])).toBeGreaterThanOrEqual(0);
      // In 4096-sample pieces, as the pipeline worker feeds it; HEAP16 is read after each
      // malloc because memory growth replaces the views.
      for (let at = 0; at < pcm.length; at += 4096) {
        const piece = pcm.subarray(at, at + 4096);
        ps.HEAP16.set(piece, pointer >> 1);
        expect(
          ps.ccall(
            'psw_process',
            'number',
            ['number', 'number', 'number'],
            [decoder, pointer, piece.length],
          ),
        ).toBeGreaterThanOrEqual(0);
      }
      expect(ps.ccall('psw_end', 'number', ['number'], [decoder])).toBeGreaterThanOrEqual(0);
      expect(ps.ccall('psw_hyp', 'string', ['number'], [decoder])).toBe('turn off the radio');
    } finally {
      ps._free(pointer);
    }
  });
});

describe('scripts/build-pocketsphinx.sh', () => {
  const outputs = [
    'pocketsphinx.mjs',
    'pocketsphinx.wasm',
    'model/en-us/mdef',
    'model/en-us.lm.bin',
  ].map((name) => `wasm-nodes/build/pocketsphinx/${name}`);

  it('does nothing when its outputs are newer than glue.c and itself', async () => {
    await run('bash', [SCRIPT]); // brings the build up to date (npm test has already)
    const before = outputs.map((file) => statSync(file).mtimeMs);
    const { stdout } = await run('bash', [SCRIPT]);
    expect(stdout).toMatch(/^pocketsphinx: up to date/m);
    expect(outputs.map((file) => statSync(file).mtimeMs)).toEqual(before);
  }, 300_000);

  it('says which Debian package to install when a tool is missing', async () => {
    // A checkout of its own (nothing built yet) and a PATH with everything but emscripten.
    const root = checkoutCopy();
    try {
      mkdirSync(join(root, 'bin'));
      for (const name of readdirSync('/usr/bin')) {
        if (!name.startsWith('em')) symlinkSync(join('/usr/bin', name), join(root, 'bin', name));
      }
      const result = await run('/usr/bin/bash', [join(root, SCRIPT)], {
        env: { ...process.env, PATH: join(root, 'bin') },
      }).catch((error: { code: number; stderr: string }) => error);
      expect('code' in result ? result.code : 0).toBe(1);
      expect(result.stderr).toMatch(/'emcc' not found: install Debian's emscripten/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("links a module that loads when run by npm (node_modules/.bin, with npm's binaryen, first on PATH)", async () => {
    // A checkout of its own linking against this one's libraries, as `npm run build:wasm` would.
    const root = checkoutCopy();
    try {
      await run('bash', [join(root, SCRIPT)], {
        env: {
          ...process.env,
          PATH: `${resolve('node_modules/.bin')}:${process.env.PATH ?? ''}`,
          POCKETSPHINX_CACHE: resolve('wasm-nodes/build/pocketsphinx-src'),
        },
      });
      const built = join(root, 'wasm-nodes/build/pocketsphinx/pocketsphinx.mjs');
      const { default: create } = (await import(pathToFileURL(built).href)) as {
        default: (options: { printErr(line: string): void }) => Promise<PocketSphinxModule>;
      };
      const module = await create({ printErr: () => {} });
      expect(typeof module._malloc).toBe('function');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 300_000);
});

/** The build script's inputs in a folder of their own under os.tmpdir(). */
function checkoutCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'ps-build-'));
  for (const dir of ['scripts', 'wasm-nodes/pocketsphinx']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  for (const file of [
    SCRIPT,
    'scripts/build-pocketsphinx.pre.js',
    'wasm-nodes/pocketsphinx/glue.c',
  ]) {
    copyFileSync(file, join(root, file));
  }
  return root;
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';
import { readWav, writeWavFloat32 } from '../audio/wav.ts';

/** The built `remotemedia` bin, as users run it (npm test builds before it tests). */
const BIN = 'dist/web/cli/remotemedia.js';

function cli(args: string[], stdin?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { input: stdin, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const scratch = () => mkdtempSync(join(tmpdir(), 'rm-cli-'));

describe('remotemedia CLI', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build:lib" first`);
  });

  it("runs the original's one-node manifest unmodified", () => {
    const { status, stdout } = cli([
      'run',
      'examples/manifests/passthrough.json',
      '--input',
      '[1,2,3,4,5]',
    ]);
    expect(status).toBe(0);
    expect(lines(stdout)).toEqual(
      [1, 2, 3, 4, 5].map((value) => ({ node: 'pass1', kind: 'json', value })),
    );
  });

  it('runs the 3-node pipeline: [1, 2, 3] gives [6, 7, 8]', () => {
    const { status, stdout } = cli(['run', 'examples/manifests/calculator.json', '-i', '[1,2,3]']);
    expect(status).toBe(0);
    expect(lines(stdout).map((l) => l.value)).toEqual([6, 7, 8]);
  });

  it('reads a JSON file given to --input', () => {
    const file = join(scratch(), 'inputs.json');
    writeFileSync(file, '[10, 20]');
    const { status, stdout } = cli(['run', 'examples/manifests/calculator.json', '-i', file]);
    expect(status).toBe(0);
    expect(lines(stdout).map((l) => l.value)).toEqual([15, 25]);
  });

  it('streams JSON lines from stdin with --input -', () => {
    const { status, stdout } = cli(
      ['run', 'examples/manifests/calculator.json', '--input', '-'],
      '10\n\n20\n',
    );
    expect(status).toBe(0);
    expect(lines(stdout).map((l) => l.value)).toEqual([15, 25]);
  });

  it('runs a PythonNode under CPython (the gateway node runner)', () => {
    const { status, stdout, stderr } = cli([
      'run',
      'examples/manifests/python-inline.json',
      '--input',
      '[1, 2, 3]',
      '--python',
      '/usr/bin/python3',
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(lines(stdout)).toEqual(
      [2, 4, 6].map((value) => ({
        node: 'python',
        kind: 'json',
        value: { value, squared: value * value, python: true },
      })),
    );
  });

  it("imports a PythonNode class from the user's own module with --python-path", () => {
    const dir = scratch();
    writeFileSync(
      join(dir, 'my_nodes.py'),
      'from remotemedia import Node\n\n\nclass Shout(Node):\n    def process(self, data):\n        return str(data).upper() + "!"\n',
    );
    const manifest = join(dir, 'shout.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        version: 'v1',
        metadata: { name: 'shout' },
        nodes: [{ id: 'shout', node_type: 'PythonNode', params: { class: 'my_nodes:Shout' } }],
        connections: [],
      }),
    );
    // Without it the node runner's search path is the package's only.
    const without = cli(['run', manifest, '-i', '"hi"']);
    expect(without.status).toBe(1);
    expect(without.stderr).toContain("No module named 'my_nodes'");
    const { status, stdout, stderr } = cli(['run', manifest, '-i', '"hi"', '--python-path', dir]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(lines(stdout)).toEqual([{ node: 'shout', kind: 'json', value: 'HI!' }]);
    const missing = cli(['run', manifest, '-i', '"hi"', '--python-path', join(dir, 'nowhere')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`pythonPath entry '${join(dir, 'nowhere')}' is not a folder`);
  });

  it('says which interpreter could not be started for a PythonNode', () => {
    const { status, stderr } = cli([
      'run',
      'examples/manifests/python-inline.json',
      '-i',
      '1',
      '--python',
      '/nonexistent/python3',
    ]);
    expect(status).toBe(1);
    expect(stderr).toContain("Node 'python'");
    expect(stderr).toContain('/nonexistent/python3');
  });

  it('cuts a 44.1 kHz stereo WAV of speech into segments through Resample -> SileroVAD, written as WAV files', () => {
    const fixture = makeSpeechFixture(undefined, undefined, 44100);
    const { samples } = fixture.wav;
    const stereo = new Float32Array(samples.length * 2);
    samples.forEach((s, i) => {
      stereo[2 * i] = s;
      stereo[2 * i + 1] = s * 0.5;
    });
    const dir = scratch();
    const input = join(dir, 'speech-44k-stereo.wav');
    writeWavFloat32(input, { samples: stereo, sampleRate: 44100, channels: 2 });
    const outDir = join(dir, 'segments');

    const { status, stdout, stderr } = cli([
      'run',
      'examples/manifests/speech-segments.json',
      '--input',
      input,
      '--out-dir',
      outDir,
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const records = lines(stdout);
    expect(records.map((r) => r.name ?? r.kind)).toEqual([
      'speech_start',
      'audio',
      'speech_end',
      'speech_start',
      'audio',
      'speech_end',
    ]);
    const files = records.filter((r) => r.kind === 'audio');
    expect(readdirSync(outDir).sort()).toEqual(['vad-001.wav', 'vad-002.wav']);
    files.forEach((record, i) => {
      const wav = readWav(record.file as string);
      const seconds = wav.samples.length / wav.sampleRate;
      const { start, end, duration } = record as Record<string, number>;
      expect(record).toMatchObject({ node: 'vad', sampleRate: 16000, channels: 1 });
      expect([wav.sampleRate, wav.channels]).toEqual([16000, 1]);
      // The file holds exactly what its line says, and the segment spans the utterance.
      expect(duration).toBeCloseTo(seconds, 6);
      expect(end! - start!).toBeCloseTo(seconds, 6);
      expect(end! * 1e6).toBeCloseTo(records[3 * i + 2]!.timestampUs as number, 0);
      expect(Math.abs(end! - fixture.truth[i]!.end)).toBeLessThan(0.15);
      expect(start).toBeLessThanOrEqual(fixture.truth[i]!.start + 0.15);
      expect(start).toBeGreaterThan(fixture.truth[i]!.start - 0.4);
    });
  });

  it('transcribes a 44.1 kHz stereo WAV: Resample -> SileroVAD -> SpeechToText (PocketSphinx in CPython), one text per segment', () => {
    const sentences = [
      'hello world this is a test of the speech detector',
      'after a pause a second sentence follows',
    ];
    const fixture = makeSpeechFixture(undefined, undefined, 44100);
    const { samples } = fixture.wav;
    const stereo = new Float32Array(samples.length * 2);
    samples.forEach((s, i) => {
      stereo[2 * i] = s;
      stereo[2 * i + 1] = s;
    });
    const dir = scratch();
    const input = join(dir, 'speech.wav');
    writeWavFloat32(input, { samples: stereo, sampleRate: 44100, channels: 2 });
    const manifest = join(dir, 'stt.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        version: 'v1',
        metadata: { name: 'speech to text' },
        nodes: [
          { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
          { id: 'vad', node_type: 'SileroVAD', params: {} },
          {
            id: 'stt',
            node_type: 'SpeechToText',
            params: {
              // Each VAD segment is one utterance (16 kHz mono); the VAD's events pass on.
              endpointing: 'input',
              transcript_events: false,
              grammar: `#JSGF V1.0;\ngrammar s;\npublic <s> = ${sentences.join(' | ')};\n`,
            },
          },
        ],
        connections: [
          { from: 'resample', to: 'vad' },
          { from: 'vad', to: 'stt' },
        ],
      }),
    );
    const { status, stdout, stderr } = cli(['run', manifest, '--input', input]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const records = lines(stdout);
    expect(records.map((r) => r.name ?? r.text)).toEqual([
      'speech_start',
      sentences[0],
      'speech_end',
      'speech_start',
      sentences[1],
      'speech_end',
    ]);
    const texts = records.filter((r) => r.kind === 'text');
    texts.forEach((r, i) => {
      expect(Math.abs((r.timestampUs as number) / 1e6 - fixture.truth[i]!.start)).toBeLessThan(0.3);
    });
  });

  it('cuts a WAV into --frame-ms blocks; continuous audio becomes one file', () => {
    const dir = scratch();
    const input = join(dir, 'tone.wav');
    const samples = Float32Array.from({ length: 16000 * 0.5 + 37 }, (_, i) => Math.sin(i / 5) / 4);
    writeWavFloat32(input, { samples, sampleRate: 16000, channels: 1 });
    const passthrough = 'examples/manifests/passthrough.json';

    const blocks = lines(cli(['run', passthrough, '-i', input, '--frame-ms', '10']).stdout);
    expect(blocks).toHaveLength(51);
    expect(blocks[0]).toEqual({
      node: 'pass1',
      kind: 'audio',
      timestampUs: 0,
      sampleRate: 16000,
      channels: 1,
      frames: 160,
      seconds: 0.01,
    });
    expect(blocks.at(-1)).toMatchObject({ frames: 37, timestampUs: 500000 });

    const outDir = join(dir, 'out');
    const [record] = lines(cli(['run', passthrough, '-i', input, '-o', outDir]).stdout);
    expect(record).toEqual({
      node: 'pass1',
      kind: 'audio',
      file: join(outDir, 'pass1-001.wav'),
      sampleRate: 16000,
      channels: 1,
      duration: 0.502313,
      start: 0,
      end: 0.502313,
    });
    expect(readWav(record!.file as string).samples).toEqual(samples);
  });

  it('with --realtime, feeds a WAV no faster than it plays', () => {
    const input = join(scratch(), 'half-second.wav');
    writeWavFloat32(input, { samples: new Float32Array(8000), sampleRate: 16000, channels: 1 });
    const started = performance.now();
    const { status, stdout } = cli([
      'run',
      'examples/manifests/passthrough.json',
      '-i',
      input,
      '--realtime',
    ]);
    // A lower bound only: the last 20 ms block is due 480 ms after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(480);
    expect(status).toBe(0);
    expect(lines(stdout)).toHaveLength(25);
  });

  it.each([
    ['text named .wav', 'notes.wav', 'hello, this is not audio', 'is not a readable WAV file'],
    [
      'bytes that are neither WAV nor JSON',
      'song.mp3',
      '\u00ff\u00fb\u0090\u0064 mp3 frames',
      'is neither a WAV file',
    ],
  ])('rejects %s with an error naming the file and what it expected', (_, name, content, says) => {
    const file = join(scratch(), name);
    writeFileSync(file, content, 'latin1');
    const { status, stdout, stderr } = cli([
      'run',
      'examples/manifests/speech-segments.json',
      '-i',
      file,
    ]);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`[invalid_data] ${file} ${says}`);
    expect(stderr).toMatch(/expected a RIFF\/WAVE file|takes a WAV file/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to run without --input, saying what the sources take', () => {
    const json = cli(['run', 'examples/manifests/calculator.json']);
    expect(json.status).toBe(2);
    expect(json.stdout).toBe('');
    expect(json.stderr).toContain(
      "examples/manifests/calculator.json needs input for its source node 'pass1' (PassThrough, takes any data)",
    );
    const audio = cli(['run', 'examples/manifests/speech-segments.json']);
    expect(audio.status).toBe(2);
    expect(audio.stderr).toContain("'resample' (Resample, takes audio); give --input file.wav");
  });

  it('reports every manifest problem on stderr with exit 1, naming the file', () => {
    const outDir = join(scratch(), 'never');
    const { status, stdout, stderr } = cli(['run', 'package.json', '-i', '1', '-o', outDir]);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(existsSync(outDir)).toBe(false);
    expect(stderr).toContain('package.json: invalid manifest');
    expect(stderr).toContain('version: found "0.1.0"; this runtime reads version "v1"');
    expect(stderr).toContain('nodes: ');
  });

  it('validate lists every problem with its path in one pass, and names each file', () => {
    const dir = scratch();
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        version: 'v1',
        nodes: [
          { id: 'calc', node_type: 'Calculator', params: { operation: 'add', operand: 'two' } },
          { id: 'calc', node_type: 'PassThrough' },
          { id: 'x', node_type: 'Calculater' },
        ],
        connections: [{ from: 'calc', to: 'x' }],
      }),
    );
    const { status, stdout, stderr } = cli(['validate', 'examples/manifests/calculator.json', bad]);
    expect(status).toBe(1);
    expect(stdout).toBe('examples/manifests/calculator.json: valid (3 nodes)\n');
    expect(stderr).toContain(`${bad}: invalid manifest (4 problems):`);
    for (const path of [
      'metadata: ',
      'nodes[0].params.operand: ',
      'nodes[1].id: duplicate node id',
      "nodes[2].node_type: unknown node type 'Calculater'. Did you mean 'Calculator'?",
    ]) {
      expect(stderr).toContain(`  - ${path}`);
    }
  });

  it('validates a PythonNode manifest without starting Python, and lists node types', () => {
    expect(cli(['validate', 'examples/manifests/python-inline.json'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('valid (2 nodes)'),
    });
    const { stdout } = cli(['nodes']);
    expect(stdout).toContain('Calculator (also: CalculatorNode)');
    expect(stdout).toContain('SileroVAD');
    expect(stdout).toContain('PythonNode');
  });

  it('runs node types of its own from --nodes modules, the format the gateway and the worker load', () => {
    const dir = scratch();
    const module = join(dir, 'my-nodes.mjs');
    // A node module needs no import: a definition is a type, a Standard Schema and create().
    writeFileSync(
      module,
      `const anyParams = { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value ?? {} }) } };
export default [{
  type: 'Shout',
  params: anyParams,
  create: () => ({ process: (input) => ({ kind: 'text', text: String(input.value).toUpperCase() + '!' }) }),
}];
`,
    );
    const manifest = join(dir, 'shout.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        version: 'v1',
        metadata: { name: 'shout' },
        nodes: [{ id: 'shout', node_type: 'Shout', params: {} }],
      }),
    );
    const { status, stdout, stderr } = cli([
      'run',
      manifest,
      '-i',
      '["hi", "there"]',
      '--nodes',
      module,
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(lines(stdout)).toEqual([
      { node: 'shout', kind: 'text', text: 'HI!' },
      { node: 'shout', kind: 'text', text: 'THERE!' },
    ]);
    expect(cli(['nodes', '--nodes', module]).stdout).toContain('Shout');
    expect(cli(['validate', manifest, '--nodes', module]).status).toBe(0);
    expect(cli(['validate', manifest]).stderr).toContain("unknown node type 'Shout'");

    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const answer = 42;\n');
    const bad = cli(['run', manifest, '-i', '1', '--nodes', empty]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('empty.mjs: exports no array of node definitions');
  });

  it('answers an unknown flag with one line and exit 2, never a stack trace', () => {
    for (const args of [
      ['run', 'examples/manifests/calculator.json', '--frobnicate'],
      ['validate', '-x', 'examples/manifests/calculator.json'],
      ['--frobnicate'],
    ]) {
      const { status, stdout, stderr } = cli(args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
    expect(cli(['run', 'm.json', '--frobnicate']).stderr).toBe(
      "remotemedia run: unknown option '--frobnicate'; it takes --input, --frame-ms, --realtime, --out-dir, --python, --python-path, --nodes, --help (see remotemedia run --help)\n",
    );
    expect(cli(['run', 'm.json', '-i']).stderr).toBe(
      'remotemedia run: --input needs a value (see remotemedia run --help)\n',
    );
    expect(cli(['run', 'm.json', '--realtime=yes']).stderr).toBe(
      'remotemedia run: --realtime takes no value\n',
    );
    expect(cli(['run', 'm.json', '--frame-ms', 'soon']).stderr).toContain(
      "--frame-ms must be a number of milliseconds in (0, 10000], not 'soon'",
    );
    expect(cli(['frobnicate'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("unknown command 'frobnicate'"),
    });
  });

  it('prints help for the whole command and for each command, exit 0', () => {
    const all = cli(['--help']);
    expect(all.status).toBe(0);
    for (const name of ['run', 'validate', 'nodes'])
      expect(all.stdout).toContain(`remotemedia ${name}`);
    const run = cli(['run', '--help']);
    expect(run.status).toBe(0);
    for (const flag of [
      '--input',
      '--frame-ms',
      '--realtime',
      '--out-dir',
      '--python',
      '--nodes',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(cli(['validate', '-h']).stdout).toContain('Usage: remotemedia validate');
  });
});

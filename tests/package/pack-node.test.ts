/**
 * The npm package on Node, as a user installs it: the packed tarball in a new
 * project outside the repository (tests/package/packed-project.ts), then its two
 * commands and its Node entry used the way the README and docs say.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';
import { readWav } from '../audio/wav.ts';
import { type PackedProject, packedProject, REPO } from './packed-project.ts';

let project: PackedProject;

beforeAll(async () => {
  // zod: the README's quickstart declares its node's params with it.
  project = await packedProject({ name: 'remotemedia-node-app', dependencies: ['zod'] });
}, 300_000);

afterAll(() => project?.remove(), 60_000); // node_modules holds thousands of files

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the packed package on Node', () => {
  it('installs both commands, and nothing from the checkout', () => {
    for (const bin of ['remotemedia', 'remotemedia-gateway']) {
      expect(existsSync(join(project.dir, 'node_modules/.bin', bin)), bin).toBe(true);
    }
    const installed = join(project.dir, 'node_modules/remotemedia-web');
    expect(existsSync(join(installed, 'web')), 'TypeScript sources are not shipped').toBe(false);
    expect(existsSync(join(installed, 'python-packages/remotemedia/node_runner.py'))).toBe(true);
  });

  it('npx remotemedia run computes a JSON manifest', async () => {
    copyFileSync(
      join(REPO, 'examples/manifests/calculator.json'),
      join(project.dir, 'calculator.json'),
    );
    const result = await project.run('npx', [
      'remotemedia',
      'run',
      'calculator.json',
      '--input',
      '[1, 2, 3]',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([
      { node: 'pass2', kind: 'json', value: 6 },
      { node: 'pass2', kind: 'json', value: 7 },
      { node: 'pass2', kind: 'json', value: 8 },
    ]);
  });

  it('npx remotemedia run cuts a WAV into speech segments (Resample -> SileroVAD) written as WAV files', async () => {
    // Two utterances at 44.1 kHz: Resample takes them to 16 kHz for the detector.
    const speech = makeSpeechFixture(undefined, undefined, 44100);
    copyFileSync(speech.path, join(project.dir, 'speech.wav'));
    copyFileSync(
      join(REPO, 'examples/manifests/speech-segments.json'),
      join(project.dir, 'speech-segments.json'),
    );
    const result = await project.run('npx', [
      'remotemedia',
      'run',
      'speech-segments.json',
      '--input',
      'speech.wav',
      '--out-dir',
      'segments',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const files = jsonLines(result.stdout).filter((record) => record.kind === 'audio');
    expect(files).toHaveLength(speech.truth.length);
    files.forEach((record, i) => {
      const wav = readWav(join(project.dir, String(record.file)));
      expect(wav.sampleRate).toBe(16000);
      expect(wav.samples.length / 16000).toBeCloseTo(Number(record.duration), 2);
      // Each segment covers its utterance's audible span (Silero's pads and redemption aside).
      const { start, end } = speech.truth[i]!;
      expect(Number(record.start)).toBeLessThanOrEqual(start + 0.2);
      expect(Number(record.end)).toBeGreaterThanOrEqual(end - 0.2);
    });
  }, 120_000);

  it("plain Node imports 'remotemedia-web' and runs the README's quickstart", async () => {
    // examples/quickstart.ts as a user writes it: importing the package, types stripped.
    const source = readFileSync(join(REPO, 'examples/quickstart.ts'), 'utf8').replace(
      /from '\.\.\/web\/index\.node\.ts'/,
      "from 'remotemedia-web'",
    );
    expect(source).toContain("from 'remotemedia-web'");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(project.dir, 'quickstart.mjs'), outputText);
    const result = await project.run('node', ['quickstart.mjs']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual([
      'unary: {"kind":"text","text":"20 ms"}',
      'describe: {"kind":"text","text":"40 ms"}',
      'describe: {"kind":"text","text":"60 ms"}',
    ]);
  });

  it("plain Node runs the Node entry's SileroVAD (models from the installed packages)", async () => {
    const speech = makeSpeechFixture(undefined, undefined, 16000);
    const { samples } = speech.wav;
    writeFileSync(
      join(project.dir, 'speech.f32'),
      new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
    );
    const script = `
      import { readFileSync } from 'node:fs';
      import { PipelineRunner, RuntimeData, SileroVAD } from 'remotemedia-web';
      const bytes = readFileSync('speech.f32');
      const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      const chunks = [];
      for (let i = 0; i < samples.length; i += 320) {
        chunks.push(RuntimeData.audio(samples.slice(i, i + 320), 16000, 1, (i / 16000) * 1e6));
      }
      const manifest = { version: 'v1', metadata: { name: 'vad' },
        nodes: [{ id: 'vad', node_type: 'SileroVAD', params: {} }], connections: [] };
      const outputs = await new PipelineRunner({ nodes: [SileroVAD] }).executeBatch(manifest, chunks);
      for (const o of outputs.filter((o) => o.kind === 'audio')) {
        console.log(JSON.stringify({ start: o.timestampUs / 1e6, seconds: o.samples.length / 16000 }));
      }
    `;
    writeFileSync(join(project.dir, 'vad.mjs'), script);
    const result = await project.run('node', ['vad.mjs']);
    expect(result.stderr).toBe('');
    const segments = jsonLines(result.stdout);
    expect(segments).toHaveLength(speech.truth.length);
    segments.forEach((segment, i) => {
      const { start, end } = speech.truth[i]!;
      expect(Number(segment.start)).toBeLessThanOrEqual(start + 0.2);
      expect(Number(segment.start) + Number(segment.seconds)).toBeGreaterThanOrEqual(end - 0.2);
    });
  }, 60_000);

  it('npx remotemedia-gateway serves; Node 20 calls it with RemoteProxyClient (a built-in node and a PythonNode in CPython)', async () => {
    const token = 'packed-project-test-token';
    const gateway = project.start('npx', ['remotemedia-gateway', '--port', '0', '--token', token]);
    try {
      const [, port] = await gateway.waitFor(
        /^RemoteMedia gateway on ws:\/\/127\.0\.0\.1:(\d+)\/v1$/,
      );
      const manifest = {
        version: 'v1',
        metadata: { name: 'through the gateway' },
        nodes: [
          { id: 'double', node_type: 'Calculator', params: { operation: 'multiply', operand: 2 } },
          {
            id: 'python',
            node_type: 'PythonNode',
            params: {
              class: 'remotemedia.nodes.base:CalculatorNode',
              params: { operation: 'add', operand: 1 },
            },
          },
        ],
        connections: [{ from: 'double', to: 'python' }],
      };
      // No WebSocket class is handed over: on Node 20 the entry brings ws.
      const client = `
        import { RemoteProxyClient, RuntimeData } from 'remotemedia-web';
        const client = new RemoteProxyClient({ host: '127.0.0.1', port: ${port} }, { token: ${JSON.stringify(token)} });
        const manifest = ${JSON.stringify(manifest)};
        console.log(JSON.stringify(await client.execute(manifest, RuntimeData.json(1))));
        const session = await client.stream(manifest);
        const reading = (async () => { for await (const { data } of session) console.log(JSON.stringify(data)); })();
        for (const value of [2, 3]) await session.sendInput(RuntimeData.json(value));
        await session.close();
        await reading;
      `;
      writeFileSync(join(project.dir, 'client.mjs'), client);
      const result = await project.run('node', ['client.mjs']);
      expect(result.stderr).toBe('');
      expect(jsonLines(result.stdout)).toEqual([
        { kind: 'json', value: 3 },
        { kind: 'json', value: 5 },
        { kind: 'json', value: 7 },
      ]);
    } finally {
      await gateway.stop();
    }
  }, 60_000);

  it("TypeScript (NodeNext) finds the Node entry's and the gateway entry's types", async () => {
    writeFileSync(
      join(project.dir, 'typed.ts'),
      `import { type Manifest, PipelineRunner, RemoteProxyClient, RuntimeData, SileroVAD } from 'remotemedia-web';
import { mintGatewayToken, startGateway } from 'remotemedia-web/gateway';
const manifest: Manifest = { version: 'v1', metadata: { name: 'typed' }, nodes: [], connections: [] };
const output: RuntimeData = await new PipelineRunner({ nodes: [SileroVAD] }).executeUnary(manifest, RuntimeData.json(1));
const client: RemoteProxyClient = new RemoteProxyClient({ host: '127.0.0.1', port: 8765 }, { token: 'token' });
const minted: Promise<string> = mintGatewayToken('a'.repeat(32), { nodeTypes: ['Calculator'] });
export { client, minted, output, startGateway };
// @ts-expect-error: internals are not exported
export { FrameAssembler } from 'remotemedia-web';
`,
    );
    writeFileSync(
      join(project.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['typed.ts'],
      }),
    );
    // The compiler is the repository's; what it reads is only the project's.
    const result = await project.run('node', [
      join(REPO, 'node_modules/typescript/bin/tsc'),
      '-p',
      '.',
    ]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 60_000);

  it('npx remotemedia-gateway with an unknown flag says so in one line and exits 2', async () => {
    const result = await project.run('npx', ['remotemedia-gateway', '--bogus']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^remotemedia-gateway: .*'--bogus'/),
    ]);
  });

  it('npx remotemedia-gateway --help lists every flag with its environment variable', async () => {
    const result = await project.run('npx', ['remotemedia-gateway', '--help']);
    expect(result.status).toBe(0);
    const flags = result.stdout.split('\n').filter((line) => /^ {2}--[a-z]/.test(line));
    expect(flags.length).toBeGreaterThan(10);
    for (const line of flags.filter((l) => !l.startsWith('  --help'))) {
      const flag = /^ {2}--([a-z-]+)/.exec(line)![1]!;
      expect(line).toContain(`REMOTEMEDIA_GATEWAY_${flag.toUpperCase().replaceAll('-', '_')}`);
    }
  });
});

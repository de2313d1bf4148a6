import { afterAll, describe, expect, it } from 'vitest';
import { bySink, pipelineCases } from '../../tests/fixtures/pipeline-cases.ts';
import { ManifestValidationError, PipelineRunner, RuntimeData } from '../core/internal.ts';
import { platform } from '../platform.ts';
import { createRuntime } from './runtime.ts';

describe('the core in a module Worker in Chromium', async () => {
  const transport = await createRuntime();
  afterAll(() => transport.dispose());

  it('the test page is cross-origin isolated (COOP/COEP from our server config)', () => {
    expect(platform.inBrowser).toBe(true);
    expect(crossOriginIsolated).toBe(true);
    expect(platform.sharedArrayBuffer).toBe(true);
  });

  for (const c of pipelineCases) {
    it(`gives the same outputs as Node for ${c.name}`, async () => {
      expect(bySink(await transport.run(c.manifest, c.inputs))).toEqual(bySink(c.expected));
    });
  }

  it('and the same as the core on the page itself', async () => {
    const local = new PipelineRunner();
    for (const c of pipelineCases) {
      expect(bySink(await local.run(c.manifest, c.inputs))).toEqual(bySink(c.expected));
    }
  });

  it('validation errors cross the worker boundary typed, with their paths', async () => {
    const bad = { ...pipelineCases[1]!.manifest, version: 'v9' };
    const error = await transport.validate(bad).catch((e) => e);
    expect(error).toBeInstanceOf(ManifestValidationError);
    expect(error.issues[0]).toMatchObject({ code: 'invalid_version', path: 'version' });
  });

  it('streams through a session in the worker, and a failing node reports its id', async () => {
    const session = await transport.stream(pipelineCases[1]!.manifest);
    await session.sendInput(RuntimeData.json(1));
    expect(await session.recvOutput()).toEqual({ nodeId: 'pass2', data: RuntimeData.json(6) });
    await session.sendInput(RuntimeData.json('seven'));
    await expect(session.recvOutput()).rejects.toMatchObject({
      kind: 'node_failed',
      nodeId: 'calc',
    });
    expect(session.isActive()).toBe(false);
  });

  it('audio crosses the boundary intact', async () => {
    const samples = Float32Array.from({ length: 480 }, (_, i) => Math.sin(i / 10));
    const out = await transport.execute(
      pipelineCases[0]!.manifest,
      RuntimeData.audio(samples, 48000, 2),
    );
    expect(out).toEqual(RuntimeData.audio(samples, 48000, 2));
  });

  it('an abort ends a worker session promptly', async () => {
    const controller = new AbortController();
    const session = await transport.stream(pipelineCases[0]!.manifest, {
      signal: controller.signal,
    });
    const pending = session.recvOutput();
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    await expect(session.sendInput(RuntimeData.json(1))).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('WASM audio nodes in a Chromium worker', async () => {
  const transport = await createRuntime();
  afterAll(() => transport.dispose());

  it('Resample runs in the worker and matches the page bit for bit', async () => {
    const manifest = {
      version: 'v1' as const,
      metadata: { name: 'rs' },
      nodes: [{ id: 'rs', node_type: 'Resample', params: { target_rate: 16000 } }],
      connections: [],
    };
    const samples = Float32Array.from({ length: 4800 }, (_, i) =>
      Math.sin((2 * Math.PI * 1000 * i) / 48000),
    );
    const inputs = [0, 1, 2, 3].map((k) =>
      RuntimeData.audio(samples.slice(k * 1200, (k + 1) * 1200), 48000),
    );
    const inWorker = await transport.run(manifest, inputs);
    const onPage = await new PipelineRunner().run(manifest, inputs);
    expect(inWorker).toEqual(onPage);
    const total = inWorker.reduce(
      (n, o) => n + (o.data.kind === 'audio' ? o.data.samples.length : 0),
      0,
    );
    expect(total).toBe(1600);
  });
});

/**
 * The speech nodes from the browser: the planner puts TextToSpeech with a gateway
 * engine on the real gateway on loopback (tests/browser/gateway-setup.ts) — by the
 * node's own `remote`, or by the manifest's `gateway` — and SpeechToText there when
 * its own `remote` says so (it has a browser engine, so by default it stays in the
 * worker: pocketsphinx-stt.browser.test.ts), and says what to set when the manifest
 * names no gateway.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Manifest, RuntimeData, type RuntimeData as Data } from '../../core/internal.ts';
import { createRuntime } from '../runtime.ts';

const COMMANDS = ['what time is it', 'turn on the radio', 'stop'];

/**
 * Text -> espeak-ng on the gateway -> PocketSphinx on the gateway (when `sttRemote`)
 * -> the page.
 */
function speakAndHear(
  placement: Partial<Manifest>,
  tts: Record<string, unknown> = {},
  sttRemote?: { host: string; port: number },
): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'speak-and-hear' },
    nodes: [
      {
        id: 'tts',
        node_type: 'TextToSpeech',
        params: { engine: 'espeak-ng', sample_rate: 16000, ...tts },
      },
      { id: 'join', node_type: 'PassThrough', params: {} },
      // The synthesized chunks are one stream: the engine finds the utterance in it.
      {
        id: 'stt',
        node_type: 'SpeechToText',
        params: { keywords: COMMANDS, endpointing: 'silence' },
        ...(sttRemote ? { remote: sttRemote } : {}),
      },
    ],
    connections: [
      { from: 'tts', to: 'join' },
      { from: 'join', to: 'stt' },
    ],
    ...placement,
  };
}

describe('speech nodes placed on the gateway', async () => {
  const runtime = await createRuntime({ gateway: { token: inject('gatewayToken') } });
  afterAll(() => runtime.dispose());
  const gateway = { host: '127.0.0.1', port: inject('gatewayPort') };

  const texts = (outputs: { data: Data }[]) =>
    outputs.map((o) => o.data).flatMap((d) => (d.kind === 'text' ? [d.text] : []));

  it('the manifest\'s "gateway" takes TextToSpeech there, SpeechToText\'s "remote" it: text -> speech -> text', async () => {
    const outputs = await runtime.run(speakAndHear({ gateway } as Partial<Manifest>, {}, gateway), [
      RuntimeData.text('what time is it'),
    ]);
    expect(texts(outputs)).toEqual(['what time is it']);
  }, 60_000);

  it('a node\'s own "remote" places it, the rest stays in the browser', async () => {
    const manifest = speakAndHear({});
    manifest.nodes = manifest.nodes.map((n) => (n.id === 'join' ? n : { ...n, remote: gateway }));
    const outputs = await runtime.run(manifest, [RuntimeData.text('turn on the radio')]);
    expect(texts(outputs)).toEqual(['turn on the radio']);
  }, 60_000);

  it('with no gateway named, a typed error names the node and what to set', async () => {
    // SpeechToText has a browser engine (pocketsphinx): only TextToSpeech's espeak-ng needs one.
    const error = await runtime.validate(speakAndHear({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'manifest_invalid' });
    const issues = (error as { issues: { path: string; nodeId: string; message: string }[] })
      .issues;
    expect(issues.map((i) => [i.path, i.nodeId])).toEqual([['nodes[0].remote', 'tts']]);
    expect(issues[0]!.message).toContain('engine "espeak-ng"');
    expect(issues[0]!.message).toContain('"remote": {"host"');
    expect(issues[0]!.message).toContain('"gateway"');
    // An engine only a gateway has sends SpeechToText there too.
    const whisper = speakAndHear({});
    whisper.nodes[2] = { ...whisper.nodes[2]!, params: { engine: 'whisper' } };
    const refused = await runtime.validate(whisper).catch((e: unknown) => e);
    const paths = (refused as { issues: { path: string; message: string }[] }).issues;
    expect(paths.map((i) => i.path)).toEqual(['nodes[0].remote', 'nodes[2].remote']);
    expect(paths[1]!.message).toContain('engine "whisper"');
    expect(paths[1]!.message).toContain('"engine": "pocketsphinx"');
  });

  it('a bad manifest "gateway" is reported at its own path', async () => {
    const error = await runtime
      .validate(speakAndHear({ gateway: { host: '127.0.0.1', port: 0 } } as Partial<Manifest>))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'manifest_invalid' });
    expect((error as { issues: { path: string }[] }).issues[0]!.path).toBe('gateway.port');
  });

  it('speech params are checked with their manifest path before anything starts', async () => {
    const error = await runtime
      .validate(speakAndHear({ gateway } as Partial<Manifest>, { rate: 5 }))
      .catch((e: unknown) => e);
    expect((error as { issues: { path: string }[] }).issues[0]!.path).toBe('nodes[0].params.rate');
  });
});

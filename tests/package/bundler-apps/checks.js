/**
 * What every bundler app of tests/package/pack-bundlers.test.ts runs, given the
 * module it imported ('remotemedia-web', 'remotemedia-web/browser' or the prebuilt
 * file): speech through Resample -> SileroVAD, then a PythonNode -> WhereAmI (the
 * app's own node, in the pipeline worker), then opens the playback sink (its
 * AudioWorklets). The result goes into #result as JSON.
 */
export async function runChecks(rm, runtimeOptions) {
  const out = document.getElementById('result');
  try {
    const runtime = await rm.createRuntime(runtimeOptions);
    const speech = await rm.decodeAudio('speech.wav', 48000);
    const blocks = [];
    for (let at = 0; at < speech.samples.length; at += 960) {
      blocks.push(rm.RuntimeData.audio(speech.samples.slice(at, at + 960), 48000));
    }
    const vadOutputs = await runtime.run(
      {
        version: 'v1',
        metadata: { name: 'speech' },
        nodes: [
          { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
          { id: 'vad', node_type: 'SileroVAD', params: {} },
        ],
        connections: [{ from: 'resample', to: 'vad' }],
      },
      blocks,
    );
    const events = vadOutputs.filter((o) => o.data.kind === 'event').map((o) => o.data.name);
    const segments = vadOutputs
      .filter((o) => o.data.kind === 'audio')
      .map((o) => ({
        rate: o.data.sampleRate,
        ms: Math.round((o.data.samples.length / o.data.sampleRate) * 1000),
      }));
    const pyOutputs = await runtime.run(
      {
        version: 'v1',
        metadata: { name: 'python-then-mine' },
        nodes: [
          {
            id: 'times10',
            node_type: 'PythonNode',
            params: {
              source: [
                'from remotemedia import Node',
                'class Times10(Node):',
                '    def process(self, data):',
                '        return data * 10',
              ].join('\n'),
            },
          },
          { id: 'where', node_type: 'WhereAmI', params: {} },
        ],
        connections: [{ from: 'times10', to: 'where' }],
      },
      [1, 2, 3].map((n) => rm.RuntimeData.json(n)),
    );
    runtime.dispose();
    // The playback sink loads both AudioWorklets (as the bundler emitted them) and
    // makes a node of the playback processor: that fails if either did not load.
    const playback = await rm.AudioPlayback.open({ sampleRate: 16000 });
    const worklets = playback.context.state;
    await playback.close();
    out.textContent = JSON.stringify({
      crossOriginIsolated,
      pageScope: globalThis.constructor.name,
      worklets,
      events,
      segments,
      mine: pyOutputs.map((o) => ({ nodeId: o.nodeId, ...o.data.value })),
    });
  } catch (error) {
    out.textContent = JSON.stringify({ error: String(error?.message ?? error) });
  }
}

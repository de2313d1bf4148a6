/**
 * Pipeline worker entry: exposes a PipelineHost to the page over comlink. The page
 * calls `configure` first: where the assets are (SileroVAD loads onnxruntime and
 * its models from there) and which node modules of the embedder to register.
 */
import { expose } from 'comlink';
import { importNodeModule } from '../web/core/node-module.ts';
import { browserSileroAssets } from '../web/nodes/silero-assets-browser.ts';
import { createSileroVad } from '../web/nodes/silero-vad.ts';
import type { WorkerConfig } from '../web/runtime/assets.ts';
import { installErrorTransfer } from '../web/runtime/error-transfer.ts';
import { PipelineHost } from '../web/runtime/pipeline-host.ts';
import { createFliteTextToSpeech } from '../web/runtime/speech/flite-tts.ts';
import { POCKETSPHINX, pocketSphinxEngine } from '../web/runtime/speech/pocketsphinx-stt.ts';
import { createSpeechToText } from '../web/runtime/speech/speech-to-text-node.ts';

let assetsBase: string | undefined;
const assets = browserSileroAssets(() => {
  if (assetsBase === undefined) throw new Error('the pipeline worker was not configured');
  return assetsBase;
});

class PipelineWorkerHost extends PipelineHost {
  /** Called by the page once, before any island; imports the node modules here. */
  async configure(config: WorkerConfig): Promise<void> {
    assetsBase = config.assetsBase;
    for (const url of config.nodeModules) this.addNodes(await importNodeModule(url));
  }
}

installErrorTransfer();
// TextToSpeech's browser engine: flite.wasm from the same assets folder, fetched on first use.
const flite = createFliteTextToSpeech({
  loadWasm: async () => {
    const base = assetsBase;
    if (base === undefined) throw new Error('the pipeline worker was not configured');
    const response = await fetch(`${base}flite/flite.wasm`);
    if (!response.ok) {
      throw new Error(
        `cannot load flite.wasm: HTTP ${response.status} for ${base}flite/flite.wasm (serve the runtime's assets folder there or pass createRuntime({ assetsBase }))`,
      );
    }
    return response;
  },
});
// SpeechToText's browser engine: PocketSphinx's module, wasm and model from the
// assets folder's pocketsphinx/, fetched when the first SpeechToText starts.
const speechToText = createSpeechToText({
  engines: {
    [POCKETSPHINX]: pocketSphinxEngine(() => {
      if (assetsBase === undefined) throw new Error('the pipeline worker was not configured');
      return { base: `${assetsBase}pocketsphinx/` };
    }),
  },
});
expose(new PipelineWorkerHost({ nodes: [createSileroVad(assets), flite, speechToText] }));

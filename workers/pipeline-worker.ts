/**
 * Pipeline worker entry: exposes a PipelineHost to the page over comlink. The page
 * calls `configure` first: where the assets are (SileroVAD loads onnxruntime and
 * its models from there) and which node modules of the embedder to register.
 */
import { expose } from 'comlink';
import { RemoteMediaError } from '../web/core/errors.ts';
import { loadNodeModule } from '../web/core/node-module.ts';
import { browserSileroAssets } from '../web/nodes/silero-assets-browser.ts';
import { createSileroVad } from '../web/nodes/silero-vad.ts';
import type { WorkerConfig } from '../web/runtime/assets.ts';
import { enableBlockingWaits } from '../web/runtime/channel/wake-loop.ts';
import { installErrorTransfer } from '../web/runtime/error-transfer.ts';
import { PipelineHost } from '../web/runtime/pipeline-host.ts';
import { createFliteTextToSpeech } from '../web/runtime/speech/flite-tts.ts';
import { POCKETSPHINX, pocketSphinxEngine } from '../web/runtime/speech/pocketsphinx-stt.ts';
import type { AddedEngines } from '../web/runtime/speech/browser-speech-engines.ts';
import type { RecognizerFactory } from '../web/runtime/speech/speech-recognizer.ts';
import { createSpeechToText } from '../web/runtime/speech/speech-to-text-node.ts';

let assetsBase: string | undefined;
const assets = browserSileroAssets(() => {
  if (assetsBase === undefined) throw new Error('the pipeline worker was not configured');
  return assetsBase;
});

class PipelineWorkerHost extends PipelineHost {
  /**
   * Called by the page once, before any island; imports the node modules here and
   * answers the speech engines they added, so the page's planner places nodes that
   * name them here.
   */
  async configure(config: WorkerConfig): Promise<AddedEngines> {
    assetsBase = config.assetsBase;
    const added: string[] = [];
    for (const url of config.nodeModules) {
      const contents = await loadNodeModule(url);
      this.addNodes(contents.nodes);
      for (const [name, factory] of Object.entries(contents.speechToTextEngines)) {
        if (name in recognitionEngines) {
          throw new RemoteMediaError(
            'usage',
            `node module ${url}: speechToTextEngines["${name}"]: the worker already has a recognition engine of that name (${Object.keys(recognitionEngines).join(', ')}); give it another name`,
          );
        }
        recognitionEngines[name] = factory as RecognizerFactory;
        added.push(name);
      }
    }
    return { SpeechToText: added };
  }
}

installErrorTransfer();
// Ring channels into this worker wake it with a futex while frames stream, not an
// event-loop task (web/runtime/channel/wake-loop.ts: the trade and its bounds).
enableBlockingWaits();
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
// Node modules' speechToTextEngines join this object at configure.
const recognitionEngines: Record<string, RecognizerFactory> = {
  [POCKETSPHINX]: pocketSphinxEngine(() => {
    if (assetsBase === undefined) throw new Error('the pipeline worker was not configured');
    return { base: `${assetsBase}pocketsphinx/` };
  }),
};
const speechToText = createSpeechToText({ engines: recognitionEngines });
expose(new PipelineWorkerHost({ nodes: [createSileroVad(assets), flite, speechToText] }));

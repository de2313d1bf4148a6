/** Pipeline worker entry: exposes a PipelineHost to the page over comlink. */
import { expose } from 'comlink';
import { browserSileroAssets } from '../web/nodes/silero-assets-browser.ts';
import { createSileroVad } from '../web/nodes/silero-vad.ts';
import { installErrorTransfer } from '../web/runtime/error-transfer.ts';
import { PipelineHost } from '../web/runtime/pipeline-host.ts';

installErrorTransfer();
expose(new PipelineHost({ nodes: [createSileroVad(browserSileroAssets())] }));

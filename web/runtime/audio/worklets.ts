/**
 * Loads this package's AudioWorklet processors into a context, once per context.
 * `?worker&url` makes Vite bundle each worklet with its imports into one module.
 */
import captureUrl from '../../../workers/audio-capture.worklet.ts?worker&url';
import playbackUrl from '../../../workers/audio-playback.worklet.ts?worker&url';

const loaded = new WeakMap<BaseAudioContext, Promise<void>>();

export function loadWorklets(context: BaseAudioContext): Promise<void> {
  let loading = loaded.get(context);
  if (!loading) {
    loading = Promise.all([
      context.audioWorklet.addModule(captureUrl),
      context.audioWorklet.addModule(playbackUrl),
    ]).then(() => undefined);
    loaded.set(context, loading);
  }
  return loading;
}

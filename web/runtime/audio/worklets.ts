/**
 * Loads this package's AudioWorklet processors into a context, once per context.
 * From sources `?worker&url` makes Vite bundle each worklet with its imports into
 * one module; in dist these are `new URL('…worklet.js', import.meta.url)` to
 * self-contained files (scripts/finish-lib.mjs), which every bundler copies; the
 * prebuilt build has them in its own folder.
 */
import captureUrl from '../../../workers/audio-capture.worklet.ts?worker&url';
import playbackUrl from '../../../workers/audio-playback.worklet.ts?worker&url';
import { prebuiltFile, resolveAssetsBase } from '../assets.ts';

const loaded = new WeakMap<BaseAudioContext, Promise<void>>();

export function loadWorklets(context: BaseAudioContext): Promise<void> {
  let loading = loaded.get(context);
  if (!loading) {
    const base = resolveAssetsBase(undefined);
    loading = Promise.all([
      context.audioWorklet.addModule(prebuiltFile(base, 'audio-capture.worklet.js') ?? captureUrl),
      context.audioWorklet.addModule(
        prebuiltFile(base, 'audio-playback.worklet.js') ?? playbackUrl,
      ),
    ]).then(() => undefined);
    loaded.set(context, loading);
  }
  return loading;
}

/**
 * The prebuilt browser build's entry (dist/browser/remotemedia-web.js, made by
 * scripts/build-browser.mjs): the runtime with its workers, worklets and assets
 * in the folder this module is served from, for pages with no bundler:
 *   <script type="module">import { createRuntime } from './remotemedia-web/remotemedia-web.js'</script>
 */
import { usePrebuiltLayout } from './runtime/assets.ts';

usePrebuiltLayout(new URL('./', import.meta.url).href);

export * from './index.ts';

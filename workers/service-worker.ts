/**
 * The demo's service worker: precaches every asset the app needs (our code and
 * wasm, Pyodide, onnxruntime's wasm, the Silero models, the speech sample; the
 * list is injected by vite-plugin-pwa at build) and serves them offline with the
 * cross-origin isolation headers, so SharedArrayBuffer works with the network cut.
 * A new version waits until the page asks it to take over (no reload mid-stream).
 */
/// <reference lib="webworker" />
import { clientsClaim } from 'workbox-core';
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: { url: string; revision: string | null }[];
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The same response with the isolation headers, whatever the cache kept. */
function isolated(response: Response): Response {
  if (response.type === 'opaque' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

addPlugins([{ handlerWillRespond: async ({ response }) => isolated(response) }]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Every navigation is the app: served from the precache when offline.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | undefined)?.type === 'SKIP_WAITING')
    void self.skipWaiting();
});
clientsClaim();

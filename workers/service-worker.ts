/**
 * The demo's service worker: precaches every asset the app needs (our code and
 * wasm, Pyodide, onnxruntime's wasm, the Silero models, the speech sample; the
 * list is injected by vite-plugin-pwa at build) and serves them offline with the
 * cross-origin isolation headers, so SharedArrayBuffer works with the network cut.
 * Large assets are kept gzip'd and decompressed as they are served. What only one
 * preset needs (the voice loop's engines: TextToSpeech's flite, SpeechToText's
 * PocketSphinx and its model) is cached when first used instead, so an install
 * does not download it.
 * A new version waits until the page asks it to take over (no reload mid-stream).
 */
/// <reference lib="webworker" />
import { clientsClaim } from 'workbox-core';
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  getCacheKeyForURL,
  matchPrecache,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: { url: string; revision: string | null }[];
};

/** The precache list, injected at build (vite-plugin-pwa replaces this one name). */
const PRECACHE = self.__WB_MANIFEST;

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

/** What the browser checks a decompressed file's type by (wasm streaming compiles need it). */
const CONTENT_TYPES: Record<string, string> = {
  wasm: 'application/wasm',
  mjs: 'text/javascript',
  js: 'text/javascript',
};

/** The suffix of a gzip'd twin (scripts/precache-gzip.ts). */
const TWIN = '.precache-gz';

// A large asset is precached as its gzip'd twin: serve the plain file from it,
// decompressed as it streams (unless something on the way decoded it already).
registerRoute(
  ({ url }) =>
    url.origin === self.location.origin && getCacheKeyForURL(`${url.href}${TWIN}`) !== undefined,
  async ({ url }) => {
    const twin = await matchPrecache(`${url.href}${TWIN}`);
    if (!twin?.body) return fetch(url);
    const type = CONTENT_TYPES[url.pathname.split('.').pop() ?? ''] ?? 'application/octet-stream';
    return isolated(
      new Response(await gunzipped(twin.body), { headers: { 'Content-Type': type } }),
    );
  },
);

/** The stream decompressed when it starts as gzip does (1f 8b), else as it is. */
async function gunzipped(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
): Promise<ReadableStream<Uint8Array>> {
  const [peek, whole] = body.tee();
  const reader = peek.getReader();
  const { value } = await reader.read();
  void reader.cancel();
  const gzip = value !== undefined && value[0] === 0x1f && value[1] === 0x8b;
  return gzip ? whole.pipeThrough(new DecompressionStream('gzip')) : whole;
}
/**
 * Assets cached on first use, as their gzip'd twins (every file under these folders
 * has one: scripts/precache-gzip.ts). The cache is named for the build (a hash of
 * the precache's revisions), so a new version fetches them again.
 */
const ON_FIRST_USE = /\/remotemedia-web\/(flite|pocketsphinx)\//;
const ON_FIRST_USE_CACHE = `remotemedia-on-first-use-${buildHash(PRECACHE)}`;

/** FNV-1a over the precache's urls and revisions. */
function buildHash(entries: readonly { url: string; revision: string | null }[]): string {
  let hash = 0x811c9dc5;
  for (const { url, revision } of entries) {
    for (const char of `${url}@${revision ?? ''};`) {
      hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
    }
  }
  return hash.toString(16);
}

registerRoute(
  ({ url }) => url.origin === self.location.origin && ON_FIRST_USE.test(url.pathname),
  async ({ url }) => {
    const cache = await caches.open(ON_FIRST_USE_CACHE);
    const twinUrl = `${url.href}${TWIN}`;
    let twin = await cache.match(twinUrl);
    if (!twin) {
      const fetched = await fetch(twinUrl);
      if (!fetched.ok) return fetch(url);
      await cache.put(twinUrl, fetched.clone());
      twin = fetched;
    }
    const type = CONTENT_TYPES[url.pathname.split('.').pop() ?? ''] ?? 'application/octet-stream';
    return isolated(
      new Response(await gunzipped(twin.body!), { headers: { 'Content-Type': type } }),
    );
  },
);

addPlugins([{ handlerWillRespond: async ({ response }) => isolated(response) }]);
precacheAndRoute(PRECACHE);
cleanupOutdatedCaches();
// An older build's first-use cache goes when this one takes over.
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((n) => n.startsWith('remotemedia-on-first-use-') && n !== ON_FIRST_USE_CACHE)
            .map((n) => caches.delete(n)),
        ),
      ),
  );
});
// Every navigation is the app: served from the precache when offline.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | undefined)?.type === 'SKIP_WAITING')
    void self.skipWaiting();
});
clientsClaim();

/* global self, caches, URL, fetch, Response, __PRECACHE__, __CACHE_NAME__ */
/**
 * The service worker, filled in at build time by the `service-worker` plugin of vite.config.ts:
 * PRECACHE lists the built files (relative to the worker's scope), and CACHE is named from a hash
 * of that list, so every build with other files gets a cache of its own.
 *
 * install: precache the list. activate: delete older caches of this app, take control of open pages.
 * fetch: only same-origin GETs inside the scope. Navigations go to the network first and fall back
 * to the cached index.html; precached files (hashed assets, icons) come from the cache first. The
 * IDSync, sync and admin APIs, bootstrap.json and other origins are never touched.
 */
const PRECACHE = __PRECACHE__;
const CACHE = __CACHE_NAME__;
const PREFIX = 'identity-sync-shell-';
const SCOPE = new URL(self.registration.scope);
const NEVER = ['/v1/', '/sync/', '/admin/'];
const INDEX = new URL('./index.html', SCOPE).href;
const PRECACHED = new Set(PRECACHE.map((path) => new URL(path, SCOPE).href));

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([...PRECACHED])));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return;
  if (NEVER.some((prefix) => url.pathname.startsWith(prefix)) || url.pathname.endsWith('/bootstrap.json'))
    return;
  if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request));
  } else if (PRECACHED.has(url.origin + url.pathname)) {
    event.respondWith(cacheFirst(request, url.origin + url.pathname));
  }
});

async function networkFirst(request) {
  try {
    return await fetch(request);
  } catch {
    const cached = await caches.match(INDEX, { cacheName: CACHE });
    return cached ?? Response.error();
  }
}

async function cacheFirst(request, key) {
  const cached = await caches.match(key, { cacheName: CACHE });
  return cached ?? fetch(request);
}

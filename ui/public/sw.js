// CoUp's service worker (browser shell only): keeps the app shell so a reload
// with the server down still opens the app, which then shows the last state
// from IndexedDB. It caches the page, the hashed assets it names, the manifest
// and the icons; it never touches the API or the WebSocket (data lives in
// IndexedDB, written by the app, so nothing personal sits in a shared cache).
//
// - Navigations: network first (a new deploy is picked up at once), the cached
//   page when the server does not answer.
// - /assets/*: cache first (their names change with their content).
// - Each install reads the page's asset names from the page itself and drops
//   caches of older versions on activation.

const CACHE = "coup-shell-v1";
const SHELL = ["/", "/manifest.webmanifest", "/icon-192.png", "/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fetch("/", { cache: "no-cache" });
      const html = await page.clone().text();
      const assets = new Set([...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]));
      // The chunks the entry imports on demand (each shell's backend) are named
      // in its code, relative to /assets/.
      for (const path of [...assets].filter((a) => a.endsWith(".js"))) {
        const code = await (await fetch(path)).text();
        for (const m of code.matchAll(/["'`](?:\.\/|\/assets\/)([\w.-]+\.(?:js|css))["'`]/g)) assets.add(`/assets/${m[1]}`);
      }
      await cache.put("/", page);
      await cache.addAll([...SHELL.slice(1), ...assets]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

function ours(url) {
  if (url.origin !== self.location.origin) return false;
  return !/^\/(api|ws|healthz|readyz|metrics)(\/|$)/.test(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || !ours(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        try {
          const fresh = await fetch(request);
          if (fresh.ok) await cache.put("/", fresh.clone());
          return fresh;
        } catch (e) {
          const held = await cache.match("/");
          if (held) return held;
          throw e;
        }
      })(),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const held = await cache.match(request);
      if (held) return held;
      const fresh = await fetch(request);
      if (fresh.ok && url.pathname.startsWith("/assets/")) await cache.put(request, fresh.clone());
      return fresh;
    })(),
  );
});

// The scanner's service worker: keeps the check-in pages' assets (and the last copy of each page)
// so a host can reopen the scanner without network; check-in requests always go to the network.
"use strict";
var CACHE = "launch-checkin-v1";
var ASSETS = ["/static/css/app.css", "/static/css/checkin.css", "/static/js/app.js",
  "/static/js/offline-queue.js", "/static/js/scanner.js"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    // Assets: cache first (the scanner library and its wasm are cached on first use).
    e.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        if (res.ok) { var copy = res.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); }
        return res;
      });
    }));
  } else if (req.mode === "navigate" && /^\/c\/points\/\d+(\/scan)?$/.test(url.pathname)) {
    // The host and scanner pages: network first, the last copy when offline.
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok) { var copy = res.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); }
      return res;
    }).catch(function () { return caches.match(req); }));
  }
});

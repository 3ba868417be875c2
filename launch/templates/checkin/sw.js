// The check-in pages' service worker (rendered by /c/sw.js for this deployment, scope /c/).
// It keeps the host and scanner pages' files, the scanner library and the last copy of each host and
// scanner page, so a host who opened the host page ONCE online can open the scanner offline later;
// check-in requests always go to the network (the page queues them itself).
// Version {{ version }}: a new deployment changes this file, so the browser installs the new worker on
// the next visit; it takes over at once, and the page itself already names the new files (their
// names carry a hash of their content, so no cache can answer with an old copy).
"use strict";
var VERSION = {{ version|tojson }};
var ASSETS = "launch-assets";       // hashed files: one address, one content, forever
var PAGES = "launch-pages";         // the last copy of each host and scanner page, by path
var CORE = {{ core|tojson }};       // what the host and scanner pages load
var LIBRARY = {{ library|tojson }}; // the scanner library (about 370 KB compressed): kept, best effort
var PAGE = /^\/c\/points\/\d+(\/scan)?$/;
var HASHED = /\.[0-9a-f]{12}(\.[A-Za-z0-9]+)?$/;

function keepPage(path) {
  // A redirect is the sign-in page: nothing to keep, and not followed (following it fetched the sign-in
  // page in the background, whose new session cookie could replace the one of the sign-in page the
  // user was filling in, and refuse its form).
  return fetch(path, { credentials: "same-origin", redirect: "manual" }).then(function (res) {
    if (!res.ok || res.redirected || res.type === "opaqueredirect") { throw new Error("not kept: " + res.status); }
    return caches.open(PAGES).then(function (c) { return c.put(path, res); });
  });
}

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(ASSETS).then(function (c) {
    return c.addAll(CORE).then(function () {
      return Promise.all(LIBRARY.map(function (u) { return c.add(u).catch(function () {}); }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  // Kept pages name the files of the version they were served with: fetch them again, and drop the
  // files no page of this version names only when every kept page could be refreshed.
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== ASSETS && k !== PAGES; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () {
    return caches.open(PAGES).then(function (c) { return c.keys(); }).then(function (reqs) {
      return Promise.all(reqs.map(function (r) {
        return keepPage(new URL(r.url).pathname).then(function () { return true; }, function () { return false; });
      }));
    });
  }).then(function (refreshed) {
    if (refreshed.indexOf(false) >= 0) { return; }
    var current = CORE.concat(LIBRARY).map(function (u) { return new URL(u, self.location).pathname; });
    return caches.open(ASSETS).then(function (c) {
      return c.keys().then(function (reqs) {
        return Promise.all(reqs.filter(function (r) { return current.indexOf(new URL(r.url).pathname) < 0; })
          .map(function (r) { return c.delete(r); }));
      });
    });
  }).then(function () { return self.clients.claim(); }));
});

// A page asks to keep pages for offline use: {type: "keep", paths: [...]}, answered on its port.
self.addEventListener("message", function (e) {
  var data = e.data || {}, port = e.ports && e.ports[0];
  if (data.type !== "keep") { return; }
  var paths = (data.paths || []).filter(function (p) { return PAGE.test(p); });
  var done = Promise.all(paths.map(function (p) { return keepPage(p).then(function () { return p; }); }))
    .then(function (kept) { if (port) { port.postMessage({ ok: true, kept: kept, version: VERSION }); } },
          function (err) { if (port) { port.postMessage({ ok: false, error: String(err) }); } });
  if (e.waitUntil) { e.waitUntil(done); }
});

var BEACON = /^\/c\/points\/\d+\/page-closed$/;

self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (req.method === "POST" && url.origin === self.location.origin && BEACON.test(url.pathname)) {
    // A closing page's beacon: sent by the worker, which outlives the page (left to the browser, the
    // beacon of a page this worker controls was lost as the page unloaded).
    e.respondWith(fetch(req).catch(function () { return new Response(null, { status: 503 }); }));
    return;
  }
  if (req.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0 && HASHED.test(url.pathname)) {
    // A hashed file never changes: the kept copy, else the network (kept for next time).
    e.respondWith(caches.open(ASSETS).then(function (c) {
      return c.match(req, { ignoreVary: true, ignoreSearch: true }).then(function (hit) {
        return hit || fetch(req).then(function (res) {
          if (res.ok) { c.put(req, res.clone()); }
          return res;
        });
      });
    }));
  } else if (req.mode === "navigate" && PAGE.test(url.pathname)) {
    // The host and scanner pages: the network first, the last copy when there is none.
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(PAGES).then(function (c) { return c.put(url.pathname, copy); });
      }
      return res;
    }).catch(function (err) {
      return caches.open(PAGES).then(function (c) { return c.match(url.pathname); })
        .then(function (hit) { if (hit) { return hit; } throw err; });
    }));
  }
});

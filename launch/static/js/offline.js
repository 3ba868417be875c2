// Keeps a point's check-in pages, their files and the roster on the phone, so that ONE online visit
// to the host page (or the scanner) is enough for the scanner to open, search and name badges offline.
// window.LaunchOffline.prepare(cfg) -> Promise; cfg = {pointId, sw, rosterUrl, keep: [paths]}.
// Runs by itself on the host page (#host-config); the scanner calls it itself.
(function () {
  "use strict";
  function rosterKey(pointId) { return "launch.roster." + pointId; }

  // The roster as kept on the phone (or []), and a refresh from the network when there is one.
  function keptRoster(pointId) {
    try { return JSON.parse(localStorage.getItem(rosterKey(pointId)) || "[]"); } catch (e) { return []; }
  }
  function fetchRoster(cfg) {
    return fetch(cfg.rosterUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d || !d.attendees) { return null; }
        localStorage.setItem(rosterKey(cfg.pointId), JSON.stringify(d.attendees));
        return d;
      });
  }

  // Install the service worker (it keeps the files) and ask it to keep this point's pages.
  function keepPages(cfg) {
    if (!("serviceWorker" in navigator) || !cfg.sw) { return Promise.reject(new Error("no service worker")); }
    return navigator.serviceWorker.register(cfg.sw).then(function () { return navigator.serviceWorker.ready; })
      .then(function (reg) {
        return new Promise(function (ok, fail) {
          var channel = new MessageChannel();
          channel.port1.onmessage = function (e) { if (e.data && e.data.ok) { ok(e.data); } else { fail(e.data); } };
          reg.active.postMessage({ type: "keep", paths: cfg.keep || [] }, [channel.port2]);
        });
      });
  }

  function prepare(cfg) {
    var roster = fetchRoster(cfg).catch(function () { return null; });
    return Promise.all([keepPages(cfg), roster]);
  }
  window.LaunchOffline = { prepare: prepare, keepPages: keepPages, fetchRoster: fetchRoster, keptRoster: keptRoster };

  var el = document.getElementById("host-config");
  if (!el) { return; }
  var cfg = JSON.parse(el.textContent);
  var state = document.getElementById("offline-state");
  function run() {
    prepare(cfg).then(function () {
      if (state) { state.textContent = cfg.t.offline_ready; state.dataset.offline = "ready"; }
    }, function () { if (state) { state.dataset.offline = "failed"; } });
  }
  // After the page itself has loaded: keeping files must not slow the page down.
  if (document.readyState === "complete") { run(); } else { window.addEventListener("load", run); }
})();

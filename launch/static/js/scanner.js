// The badge scanner: camera (the phone's own BarcodeDetector, else the vendored barcode-detector +
// zxing wasm), search on the roster kept on the phone, and the offline queue. Every scan shows a
// clear answer with the person's name (offline too: the kept roster knows each badge's fingerprint).
// A badge held in view is sent once; shown again later, it calmly shows the earlier success.
// Rapid mode shows each answer full screen and clears it for the next badge.
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  var cfgEl = document.getElementById("scanner-config");
  if (!root || !cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.t;
  var csrf = root.dataset.csrf;
  var $ = function (id) { return document.getElementById(id); };
  var rosterKey = "launch.roster." + cfg.pointId;
  var logKey = "launch.log." + cfg.pointId;
  var rapidKey = "launch.rapid";
  /** The same badge seen again within this many ms of the last sight is ignored (held in view). */
  var COOLDOWN_MS = 8000;
  /** Rapid mode: how long an answer stays on screen. */
  var RAPID_MS = { ok: 1500, seen: 1500, wait: 1500, warn: 3000, bad: 3000 };
  var roster = [], byId = {}, byBadge = {};

  function fold(s) {
    return (s || "").replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag); if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; } return e;
  }
  function hhmm(iso) {
    var d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }

  // --- feedback -------------------------------------------------------------------------------
  // ok: one bright beep; seen (a repeat, nothing wrong): one soft tick; warn/bad: two low beeps.
  var audio = null;
  function beep(kind) {
    var tones = { ok: [[880, 0, 0.12]], seen: [[660, 0, 0.05]], wait: [[880, 0, 0.08]] }[kind] ||
      [[300, 0, 0.15], [300, 0.22, 0.15]];
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      tones.forEach(function (t) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = t[0]; o.connect(g); g.connect(audio.destination);
        g.gain.setValueAtTime(kind === "seen" ? 0.08 : 0.2, audio.currentTime + t[1]);
        o.start(audio.currentTime + t[1]); o.stop(audio.currentTime + t[1] + t[2]);
      });
    } catch (e) { /* no sound on this phone */ }
    if (navigator.vibrate) { navigator.vibrate({ ok: 120, seen: 30, wait: 80 }[kind] || [90, 60, 90]); }
  }
  var clearTimer = null;
  function rapid() { return $("rapid").checked; }
  function show(kind, title, message, code) {
    var box = $("result");
    clearTimeout(clearTimer);
    box.hidden = false;
    box.className = "answer answer-" + kind + (rapid() ? " rapid" : "");
    box.dataset.code = code || "";
    box.dataset.kind = kind;
    box.querySelector(".answer-icon").textContent =
      { ok: "\u2713", seen: "\u2713", bad: "\u2717", warn: "!" }[kind] || "\u2022";
    box.querySelector(".answer-title").textContent = title;
    box.querySelector(".answer-message").textContent = message || "";
    void box.offsetWidth; box.classList.add("flash-anim");
    if (rapid()) { clearTimer = setTimeout(clearResult, RAPID_MS[kind] || 2000); }
  }
  function clearResult() {
    clearTimeout(clearTimer);
    var box = $("result");
    if (box.classList.contains("rapid")) { box.hidden = true; box.classList.remove("rapid"); }
  }
  $("result").addEventListener("click", clearResult);  // a tap clears it at once
  $("rapid").checked = localStorage.getItem(rapidKey) === "1";
  $("rapid").addEventListener("change", function () {
    localStorage.setItem(rapidKey, $("rapid").checked ? "1" : "0");
    root.dataset.rapid = $("rapid").checked ? "1" : "0";
  });
  root.dataset.rapid = $("rapid").checked ? "1" : "0";

  // --- the roster kept on the phone: names, badges' fingerprints, who is checked in ---------------
  function setRoster(list) {
    roster = list || []; byId = {}; byBadge = {};
    roster.forEach(function (a) { a.f = fold(a.name); byId[a.id] = a; if (a.badge) { byBadge[a.badge] = a; } });
  }
  function saveRoster() {
    try { localStorage.setItem(rosterKey, JSON.stringify(roster)); } catch (e) { /* full: keep it in memory */ }
  }
  function markCheckedIn(attendee, at, here, where) {
    var person = attendee && byId[attendee.id];
    if (!person || person.checked_in_dt) { return; }
    person.checked_in_dt = at || new Date().toISOString(); person.here = here; person.where = where || null;
    saveRoster();
  }
  function fingerprint(text) {
    if (!(window.crypto && crypto.subtle && window.TextEncoder)) { return Promise.resolve(null); }
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) { return (b + 256).toString(16).slice(1); })
        .join("").slice(0, 20);
    }, function () { return null; });
  }
  // A person this phone knows is checked in: the earlier answer, calmly (or where, if elsewhere).
  function repeat(person) {
    if (person.here === false && person.where) {
      show("warn", T.already, person.name + " · " + T.elsewhere.replace("{point}", person.where)
        .replace("{time}", hhmm(person.checked_in_dt)), "checked_in_elsewhere");
      beep("warn");
    } else {
      show("seen", T.already, person.name + " · " + T.already_here.replace("{time}", hhmm(person.checked_in_dt)),
        "already_checked_in");
      beep("seen");
    }
  }

  // --- the log of this phone's scans (pending and answered) ------------------------------------
  function loadLog() { try { return JSON.parse(localStorage.getItem(logKey) || "[]"); } catch (e) { return []; } }
  function saveLog(log) { localStorage.setItem(logKey, JSON.stringify(log.slice(0, 50))); }
  function logEntry(item, status, text) {
    var log = loadLog().filter(function (l) { return l.client_id !== item.client_id; });
    log.unshift({ client_id: item.client_id, name: item.name || "", status: status, text: text, at: item.scanned_dt });
    saveLog(log); renderLog();
  }
  function renderLog() {
    var ul = $("log"); ul.textContent = "";
    var pending = queue.items().length;
    $("pending-count").textContent = pending ? T.pending.replace("{n}", pending) : T.none_pending;
    $("pending-count").dataset.pending = pending;
    loadLog().forEach(function (l) {
      var li = el("li"); li.dataset.clientId = l.client_id; li.dataset.status = l.status;
      var who = el("span", null, l.name || T.unknown_badge);
      who.appendChild(el("small", null, new Date(l.at).toLocaleTimeString() + (l.text ? " · " + l.text : "")));
      li.appendChild(who);
      var label = { pending: T.waiting, ok: T.synced, already: T.already, bad: T.refused }[l.status] || l.status;
      li.appendChild(el("span", "st st-" + l.status, label));
      ul.appendChild(li);
    });
  }

  // --- sending --------------------------------------------------------------------------------
  function refreshRoster() {
    return window.LaunchOffline.fetchRoster(cfg).then(function (d) {
      if (!d) { return; }
      if (d.csrf_token) { csrf = d.csrf_token; }
      setRoster(d.attendees); search();
    });
  }
  function send(item) {
    var body = { client_id: item.client_id, scanned_dt: item.scanned_dt };
    if (item.badge) { body.badge = item.badge; } else { body.attendee_id = item.attendee_id; }
    return fetch(cfg.checkinUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (a) {
        // Temporary trouble: keep the scan and try again later (a page kept offline may hold an old token).
        if (a.code === "csrf_failed") { refreshRoster().catch(function () {}); return { final: false }; }
        if (r.status === 429 || r.status >= 500) { return { final: false }; }
        if (r.status === 401) { show("warn", T.refused, T.signin, "unauthorized"); return { final: false }; }
        return { final: true, answer: a };
      });
    });
  }
  var queue = new window.LaunchQueue.OfflineQueue("launch.queue." + cfg.pointId, send);
  var lastQueued = null, retryTimer = null;
  /** After a failed send, the next try (besides the 'online' event and the 15 s round). */
  var RETRY_MS = 3000;
  queue.on(function (ev) {
    if (ev.type === "queued") {
      lastQueued = ev.item;
      logEntry(ev.item, "pending", navigator.onLine ? "" : T.queued);
      if (!navigator.onLine) { show("wait", ev.item.name || T.unknown_badge, T.queued, "queued"); beep("wait"); }
    } else if (ev.type === "answered") {
      if (lastQueued && lastQueued.client_id === ev.item.client_id) { lastQueued = null; }
      var a = ev.answer, name = (a.attendee && a.attendee.name) || ev.item.name || "";
      ev.item.name = name;
      if (a.ok) {
        markCheckedIn(a.attendee, a.scanned_dt, true);
        logEntry(ev.item, "ok", ""); show("ok", T.checked_in, a.message, a.code); beep("ok");
      } else if (a.code === "already_checked_in") {
        // Checked in here before (by this phone or another at the point): nothing is wrong.
        markCheckedIn(a.attendee, a.checked_in_dt, true);
        logEntry(ev.item, "already", a.message); show("seen", T.already, a.message, a.code); beep("seen");
      } else if (a.code === "checked_in_elsewhere") {
        markCheckedIn(a.attendee, a.checked_in_dt, false, a.point);
        logEntry(ev.item, "already", a.message); show("warn", T.already, a.message, a.code); beep("warn");
      } else {
        logEntry(ev.item, "bad", a.message); show("bad", T.refused, a.message || a.code, a.code); beep("bad");
      }
    } else if (ev.type === "offline") {
      // The network failed (it may come back without an 'online' event): try again soon.
      clearTimeout(retryTimer);
      retryTimer = setTimeout(function () { if (navigator.onLine) { queue.flush(); } }, RETRY_MS);
      // The network failed under the last scan: it waits on the phone, under its name.
      var waiting = lastQueued && queue.items().some(function (i) { return i.client_id === lastQueued.client_id; });
      show("wait", waiting ? (lastQueued.name || T.unknown_badge) : T.waiting, T.queued, "queued");
    } else if (ev.type === "change") { renderLog(); }
  });

  // --- network state --------------------------------------------------------------------------
  function renderNet() {
    var n = $("net");
    n.textContent = navigator.onLine ? T.online : T.offline;
    n.className = "net" + (navigator.onLine ? "" : " offline");
    n.dataset.online = navigator.onLine ? "1" : "0";
  }
  window.addEventListener("online", function () { renderNet(); queue.flush(); });
  window.addEventListener("offline", renderNet);
  setInterval(function () { if (navigator.onLine) { queue.flush(); } }, 15000);

  // --- search by name -------------------------------------------------------------------------
  setRoster(window.LaunchOffline.keptRoster(cfg.pointId));
  function pick(person) {
    $("search").value = ""; $("matches").textContent = "";
    if (person.checked_in_dt) { repeat(person); return; }
    queue.add({ attendee_id: person.id, name: person.name });
  }
  function renderMatches(list) {
    var ul = $("matches"); ul.textContent = "";
    if (!list.length) { ul.appendChild(el("li", "hint", T.no_match)); return; }
    list.slice(0, 20).forEach(function (p) {
      var known = byId[p.id] || p;
      var li = el("li"), who = el("span", null, p.name);
      who.appendChild(el("small", null, [p.position, p.unit].filter(Boolean).join(" · ")));
      li.appendChild(who);
      if (known.checked_in_dt) {  // marked, not offered again
        li.dataset.checkedIn = "1";
        var text = known.here === false && known.where
          ? T.elsewhere.replace("{point}", known.where).replace("{time}", hhmm(known.checked_in_dt))
          : T.checked_in + " " + hhmm(known.checked_in_dt);
        li.appendChild(el("span", "done" + (known.here === false ? " elsewhere" : ""), "\u2713 " + text));
      } else {
        var b = el("button", "primary", T.check_in); b.type = "button"; b.dataset.attendee = p.id;
        b.addEventListener("click", function () { pick(p); });
        li.appendChild(b);
      }
      ul.appendChild(li);
    });
  }
  var searchTimer = null;
  function search() {
    var q = fold($("search").value);
    if (q.length < 2) { $("matches").textContent = ""; return; }
    var words = q.split(" ");
    var local = roster.filter(function (a) { return words.every(function (w) { return a.f.indexOf(w) >= 0; }); });
    renderMatches(local);
    if (local.length || !navigator.onLine) { return; }
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {  // not expected here: look in the whole event roster
      fetch(cfg.searchUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d && fold($("search").value) === q) { renderMatches(d.attendees || []); } })
        .catch(function () {});
    }, 300);
  }
  $("search").addEventListener("input", search);

  // --- camera ---------------------------------------------------------------------------------
  var lastSeen = {};
  function onCode(value) {
    var now = Date.now(), last = lastSeen[value];
    lastSeen[value] = now;
    if (last !== undefined && now - last < COOLDOWN_MS) { return; }  // still in view, or just answered
    var p = value.lastIndexOf("/"), badge = p >= 0 ? value.slice(p + 1) : value;
    fingerprint(badge).then(function (fp) {
      var person = fp ? byBadge[fp] : null;
      if (person && person.checked_in_dt) { repeat(person); return; }
      queue.add({ badge: badge, name: person ? person.name : "" });
    });
  }
  function loadScript(src) {
    return new Promise(function (ok, fail) {
      var s = document.createElement("script"); s.src = src; s.onload = ok;
      s.onerror = function () { fail(new Error("script")); };
      document.head.appendChild(s);
    });
  }
  // The phone's own detector (Chrome on Android has one): no library to download at all.
  function nativeDetector() {
    if (!("BarcodeDetector" in window) || !window.BarcodeDetector.getSupportedFormats) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }).catch(function () { return null; });
  }
  // The vendored library, downloaded once per page (started early: see the end of this file).
  var library = null;
  function loadLibrary() {
    if (!library) {
      var script = window.BarcodeDetectionAPI ? Promise.resolve() : loadScript(cfg.vendor);
      var wasm = fetch(cfg.wasm).then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.arrayBuffer();
      });
      library = Promise.all([script, wasm]).then(function (res) {
        var api = window.BarcodeDetectionAPI;
        return api.prepareZXingModule({
          overrides: { wasmBinary: res[1], locateFile: function (path, prefix) { return path.endsWith(".wasm") ? cfg.wasm : prefix + path; } },
          fireImmediately: true
        }).then(function () { return new api.BarcodeDetector({ formats: ["qr_code"] }); });
      });
      library.catch(function () { library = null; });  // a failed download is tried again next time
    }
    return library;
  }
  var detectorReady = null;
  function getDetector() {
    detectorReady = detectorReady || nativeDetector().then(function (d) { return d || loadLibrary(); });
    detectorReady.catch(function () { detectorReady = null; });
    return detectorReady;
  }
  function stage(name) { return function (err) { throw { stage: name, error: err }; }; }
  // What really failed, in words: the download, the permission, no camera, a busy camera.
  function failure(f) {
    var err = (f && f.error) || f || {}, name = err.name || "";
    if (f && f.stage === "download") { return ["download", T.library_failed]; }
    if (name === "NotAllowedError" || name === "SecurityError") { return ["denied", T.camera_denied]; }
    if (name === "NotFoundError" || name === "OverconstrainedError") { return ["missing", T.camera_missing]; }
    if (name === "NotReadableError" || name === "AbortError") { return ["busy", T.camera_busy]; }
    return ["other", T.camera_failed + (name ? " (" + name + ")" : "")];
  }
  var running = null;
  function startCamera() {
    var status = $("camera-status"), video = $("video"), button = $("camera-start");
    status.textContent = T.camera_loading;
    button.hidden = true; root.dataset.camera = "starting"; delete root.dataset.cameraError;
    var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      ? navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      : Promise.reject({ name: "NotFoundError" });
    var stream = media.catch(stage("camera"));
    var detector = getDetector().catch(stage("download"));
    stream.then(function () {  // the camera is there; the library may still be on its way
      if (!root.dataset.library && root.dataset.camera === "starting") { status.textContent = T.library_loading; }
    }, function () {});
    detector.then(function () { root.dataset.library = "ready"; }, function () {});
    Promise.all([stream, detector]).then(function (res) {
      running = res[0];
      video.srcObject = res[0]; video.hidden = false;
      return video.play().then(function () { return res[1]; });
    }).then(function (d) {
      status.textContent = T.camera_on;
      root.dataset.camera = "on";
      var tick = function () {
        d.detect(video).then(function (codes) {
          if (codes.length) { onCode(codes[0].rawValue); }
        }).catch(function () {}).then(function () { setTimeout(tick, 200); });
      };
      tick();
    }).catch(function (f) {
      stream.then(function (s) { s.getTracks().forEach(function (t) { t.stop(); }); }, function () {});
      var what = failure(f);
      status.textContent = what[1];
      video.hidden = true; button.hidden = false;
      root.dataset.camera = "failed"; root.dataset.cameraError = what[0];
    });
  }
  $("camera-start").addEventListener("click", startCamera);

  // --- start ----------------------------------------------------------------------------------
  renderNet(); renderLog(); queue.flush();
  refreshRoster().catch(function () { /* offline: keep the copy */ });
  window.LaunchOffline.keepPages(cfg).catch(function () {});
  root.dataset.ready = "1";
  // Start downloading the library now, so the camera starts at once when asked (unless the phone
  // has its own detector).
  if (navigator.onLine) {
    setTimeout(function () { getDetector().catch(function () {}); }, 0);
  }
  window.addEventListener("pagehide", function () {
    if (running) { running.getTracks().forEach(function (t) { t.stop(); }); }
  });
})();

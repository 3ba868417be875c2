// The badge scanner: camera (vendored barcode-detector + zxing wasm), manual search on the roster
// kept on the phone, and the offline queue. Every scan shows a clear answer, beeps and vibrates.
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
  var roster = [];

  function fold(s) {
    return (s || "").replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag); if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; } return e;
  }

  // --- feedback -------------------------------------------------------------------------------
  var audio = null;
  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = ok ? [[880, 0, 0.12]] : [[300, 0, 0.15], [300, 0.22, 0.15]];
      tones.forEach(function (t) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = t[0]; o.connect(g); g.connect(audio.destination);
        g.gain.setValueAtTime(0.2, audio.currentTime + t[1]);
        o.start(audio.currentTime + t[1]); o.stop(audio.currentTime + t[1] + t[2]);
      });
    } catch (e) { /* no sound on this phone */ }
    if (navigator.vibrate) { navigator.vibrate(ok ? 120 : [90, 60, 90]); }
  }
  function show(kind, title, message, code) {
    var box = $("result");
    box.hidden = false;
    box.className = "answer answer-" + kind;
    box.dataset.code = code || "";
    box.querySelector(".answer-icon").textContent = kind === "ok" ? "\u2713" : (kind === "bad" ? "\u2717" : "\u2022");
    box.querySelector(".answer-title").textContent = title;
    box.querySelector(".answer-message").textContent = message || "";
    void box.offsetWidth; box.classList.add("flash-anim");
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
      var who = el("span", null, l.name || "");
      who.appendChild(el("small", null, new Date(l.at).toLocaleTimeString() + (l.text ? " · " + l.text : "")));
      li.appendChild(who);
      var label = { pending: T.waiting, ok: T.synced, already: T.already, bad: T.refused }[l.status] || l.status;
      li.appendChild(el("span", "st st-" + l.status, label));
      ul.appendChild(li);
    });
  }

  // --- sending --------------------------------------------------------------------------------
  function send(item) {
    var body = { client_id: item.client_id, scanned_dt: item.scanned_dt };
    if (item.badge) { body.badge = item.badge; } else { body.attendee_id = item.attendee_id; }
    return fetch(cfg.checkinUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (a) {
        // Temporary trouble: keep the scan and try again later.
        if (r.status === 429 || r.status >= 500 || a.code === "csrf_failed") { return { final: false }; }
        if (r.status === 401) { show("warn", T.refused, T.signin, "unauthorized"); return { final: false }; }
        return { final: true, answer: a };
      });
    });
  }
  var queue = new window.LaunchQueue.OfflineQueue("launch.queue." + cfg.pointId, send);
  queue.on(function (ev) {
    if (ev.type === "queued") {
      logEntry(ev.item, "pending", navigator.onLine ? "" : T.queued);
      if (!navigator.onLine) { show("wait", T.waiting, (ev.item.name ? ev.item.name + " · " : "") + T.queued, "queued"); beep(true); }
    } else if (ev.type === "answered") {
      var a = ev.answer, name = (a.attendee && a.attendee.name) || ev.item.name || "";
      ev.item.name = name;
      if (a.ok) {
        logEntry(ev.item, "ok", ""); show("ok", T.checked_in, a.message, a.code); beep(true);
      } else if (a.code === "already_checked_in" || a.code === "checked_in_elsewhere") {
        logEntry(ev.item, "already", a.message); show("warn", T.already, a.message, a.code); beep(false);
      } else {
        logEntry(ev.item, "bad", a.message); show("bad", T.refused, a.message || a.code, a.code); beep(false);
      }
    } else if (ev.type === "offline") {
      show("wait", T.waiting, T.queued, "queued");
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

  // --- roster: kept on the phone for offline search -------------------------------------------
  function setRoster(list) {
    roster = list.map(function (a) { a.f = fold(a.name); return a; });
  }
  try { setRoster(JSON.parse(localStorage.getItem(rosterKey) || "[]")); } catch (e) { roster = []; }
  fetch(cfg.rosterUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) {
      if (d && d.attendees) { localStorage.setItem(rosterKey, JSON.stringify(d.attendees)); setRoster(d.attendees); search(); }
    }).catch(function () { /* offline: keep the copy */ });

  function pick(person) {
    queue.add({ attendee_id: person.id, name: person.name });
    $("search").value = ""; $("matches").textContent = "";
  }
  function renderMatches(list) {
    var ul = $("matches"); ul.textContent = "";
    if (!list.length) { ul.appendChild(el("li", "hint", T.no_match)); return; }
    list.slice(0, 20).forEach(function (p) {
      var li = el("li"), who = el("span", null, p.name);
      who.appendChild(el("small", null, [p.position, p.unit].filter(Boolean).join(" · ")));
      var b = el("button", "primary", T.check_in); b.type = "button"; b.dataset.attendee = p.id;
      b.addEventListener("click", function () { pick(p); });
      li.appendChild(who); li.appendChild(b); ul.appendChild(li);
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
  var lastValue = "", lastAt = 0;
  function onCode(value) {
    var now = Date.now();
    if (value === lastValue && now - lastAt < 4000) { return; }  // the same badge still in view
    lastValue = value; lastAt = now;
    var p = value.lastIndexOf("/");
    queue.add({ badge: p >= 0 ? value.slice(p + 1) : value, name: "" });
  }
  function loadScript(src) {
    return new Promise(function (ok, fail) {
      var s = document.createElement("script"); s.src = src; s.onload = ok; s.onerror = fail;
      document.head.appendChild(s);
    });
  }
  function startCamera() {
    var status = $("camera-status"), video = $("video");
    status.textContent = T.camera_loading;
    $("camera-start").hidden = true;
    var stream = navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    var lib = window.BarcodeDetectionAPI ? Promise.resolve() : loadScript(cfg.vendor);
    Promise.all([stream, lib]).then(function (res) {
      var api = window.BarcodeDetectionAPI;
      return api.prepareZXingModule({
        overrides: { locateFile: function (path, prefix) { return path.endsWith(".wasm") ? cfg.wasmBase + path : prefix + path; } },
        fireImmediately: true
      }).then(function () {
        video.srcObject = res[0]; video.hidden = false;
        return video.play().then(function () { return new api.BarcodeDetector({ formats: ["qr_code"] }); });
      });
    }).then(function (detector) {
      status.textContent = T.camera_on;
      root.dataset.camera = "on";
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) { onCode(codes[0].rawValue); }
        }).catch(function () {}).then(function () { setTimeout(tick, 200); });
      };
      tick();
    }).catch(function (e) {
      status.textContent = T.camera_failed + " (" + (e && e.name || e) + ")";
      $("camera-start").hidden = false; root.dataset.camera = "failed";
    });
  }
  $("camera-start").addEventListener("click", startCamera);

  // --- start ----------------------------------------------------------------------------------
  if ("serviceWorker" in navigator && cfg.sw) {
    navigator.serviceWorker.register(cfg.sw).catch(function () {});
  }
  renderNet(); renderLog(); queue.flush();
  root.dataset.ready = "1";
})();

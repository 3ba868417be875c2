// A national launch's whole wall: one tile per province (checked in / invited, attention counts), the
// national IOC's own tile, national counters and attention list; a province opens its own wall.
// Same protocol as wall.js (launch/realtime/publisher.py): a snapshot on (re)join, then numbered
// deltas carrying the changed groups whole; a gap or a reconnect resynchronises.
(function () {
  "use strict";
  var root = document.getElementById("wall");
  if (!root || root.dataset.view !== "groups") { return; }
  var L = JSON.parse(document.getElementById("wall-labels").textContent);
  var eventId = parseInt(root.dataset.event, 10);
  var drillUrl = root.dataset.drillUrl;  // ends in /0: the group id replaces it
  var lang = root.dataset.lang || "vi";
  var timeFmt = new Intl.DateTimeFormat(lang, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", hour12: false });
  var GAP_GRACE_MS = 1500;
  // As wall.js: resyncs spread over a random share of RESYNC_JITTER_MS; the full re-read is a safety
  // net, SAFETY_RESYNC_MS after the last snapshot plus a random half of it.
  var RESYNC_JITTER_MS = 3000;
  var SAFETY_RESYNC_MS = 10 * 60 * 1000;
  var safetyTimer = null;
  function resyncDelay() { return GAP_GRACE_MS + Math.floor(Math.random() * RESYNC_JITTER_MS); }
  function armSafetyResync() {
    if (safetyTimer) { clearTimeout(safetyTimer); }
    safetyTimer = setTimeout(function () { resync(); }, SAFETY_RESYNC_MS + Math.floor(Math.random() * SAFETY_RESYNC_MS / 2));
  }
  var state = { seq: null, room: null, groups: {}, order: [], host: null, event: null, clockOffset: 0 };
  var pending = {};
  var recent = {};  // the last RECENT_KEPT deltas applied (as wall.js: a snapshot they overtook replays them)
  var RECENT_KEPT = 64;
  var gapTimer = null;
  var tilesEl = document.getElementById("tiles");

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k] === undefined ? "" : values[k]; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function setText(id, value) { var e = document.getElementById(id); if (e) { e.textContent = value; } }
  function hhmm(iso) { return iso ? timeFmt.format(new Date(iso)) : ""; }
  function setConn(kind) {
    var c = document.getElementById("wall-conn");
    c.dataset.conn = kind;
    c.textContent = kind === "live" ? L.connected : kind === "refused" ? L.refused : L.reconnecting;
  }

  function renderGroup(g) {
    var a = el("a", "tile gtile st-" + g.status);
    a.id = "group-" + g.id;
    a.href = drillUrl.replace(/\/0$/, "/" + g.id);
    a.dataset.group = g.id;
    a.dataset.status = g.status;
    a.appendChild(el("h4", "tile-name", g.name));
    var main = el("p", "gtile-main");
    main.appendChild(el("strong", null, g.checked_in + "/" + g.invited));
    main.appendChild(el("span", null, " " + L.groups.checked));
    a.appendChild(main);
    var bar = el("meter");
    bar.min = 0; bar.max = g.invited || 1; bar.value = g.checked_in;
    a.appendChild(bar);
    var facts = el("ul", "gfacts");
    [["attention", g.attention], ["problems", g.problems], ["signal_lost", g.signal_lost]].forEach(function (f) {
      if (!f[1]) { return; }
      var li = el("li", "gfact gfact-" + f[0], fmt(L.groups[f[0]], { n: f[1] }));
      li.dataset.fact = f[0];
      facts.appendChild(li);
    });
    a.appendChild(facts);
    a.title = fmt(L.groups.open, { name: g.name });
    return a;
  }

  function renderHost(t) {
    var a = el("article", "tile tile-host st-" + t.status);
    a.id = "tile-" + t.id;
    a.dataset.point = t.id;
    a.appendChild(el("h4", "tile-name", t.name));
    var s = el("p", "tile-status");
    s.appendChild(el("span", "dot"));
    s.appendChild(el("strong", null, L.status[t.status] || t.status));
    a.appendChild(s);
    return a;
  }

  function renderTiles() {
    tilesEl.textContent = "";
    var grid = el("div", "tilegrid gtilegrid");
    if (state.host) { grid.appendChild(renderHost(state.host)); }
    state.order.forEach(function (id) { grid.appendChild(renderGroup(state.groups[id])); });
    tilesEl.appendChild(grid);
    tilesEl.setAttribute("aria-busy", "false");
  }

  function renderCounters(c) {
    setText("c-checked", c.checked_in);
    setText("c-invited", c.invited);
    setText("c-present", c.attendees_present);
    setText("c-expected", c.attendees_expected);
    setText("c-live", c.live);
    setText("c-incall", c.in_call);
    var levels = [];
    Object.keys(c.levels).forEach(function (k) {
      var v = c.levels[k];
      if (v.invited) { levels.push(v.checked_in + "/" + v.invited + " " + (L.level && L.level[k] ? L.level[k] : k)); }
    });
    setText("c-levels", levels.join(" · "));
    var ul = document.getElementById("c-districts");
    if (!ul) { return; }
    ul.textContent = "";
    c.districts.forEach(function (d) {
      var li = el("li", d.checked_in === d.invited ? "full" : "");
      li.appendChild(el("span", "dname", d.name));
      var bar = el("meter");
      bar.min = 0; bar.max = d.invited || 1; bar.value = d.checked_in;
      li.appendChild(bar);
      li.appendChild(el("span", "dnum", d.checked_in + "/" + d.invited));
      ul.appendChild(li);
    });
  }

  function renderAttention(list, total) {
    var ol = document.getElementById("attention");
    ol.textContent = "";
    setText("attention-count", total ? "(" + total + ")" : "");
    setText("c-attention", total);
    if (!total) { ol.appendChild(el("li", "empty-line", L.all_clear)); return; }
    list.forEach(function (a) {
      var li = el("li", "att st-" + a.status);
      li.dataset.point = a.id;
      li.dataset.reason = a.reason;
      var head = el("div", "att-head");
      head.appendChild(el("strong", null, a.name));
      head.appendChild(el("span", "att-reason", L.reason[a.reason] + (a.problem ? " — " + (L.problem[a.problem.kind] || a.problem.kind) : "")));
      li.appendChild(head);
      var who = el("div", "att-who");
      var parts = [a.district_name, a.host_name].filter(function (x) { return x; });
      if (parts.length) { who.appendChild(el("span", null, parts.join(" · ") + " ")); }
      if (a.host_phone) {
        var tel = el("a", "tel", a.host_phone);
        tel.href = "tel:" + a.host_phone.replace(/[^0-9+]/g, "");
        who.appendChild(tel);
      }
      li.appendChild(who);
      ol.appendChild(li);
    });
    if (total > list.length) { ol.appendChild(el("li", "empty-line", fmt(L.groups.more, { n: total - list.length }))); }
  }

  function renderFeed(feed) {
    var ol = document.getElementById("feed");
    ol.textContent = "";
    if (!feed.length) { ol.appendChild(el("li", "empty-line", L.no_activity)); return; }
    feed.forEach(function (a) {
      var li = el("li", "feed-" + a.kind);
      li.appendChild(el("time", null, hhmm(a.at)));
      li.appendChild(el("strong", null, " " + (a.point_name || "") + " "));
      li.appendChild(el("span", null, L.feed[a.kind] || a.kind));
      ol.appendChild(li);
    });
  }

  function renderEvent() {
    if (!state.event) { return; }
    var badge = document.getElementById("wall-state");
    badge.className = "badge state-" + state.event.state;
    badge.dataset.state = state.event.state;
    badge.textContent = L.state[state.event.state] || state.event.state;
    tickCountdown();
  }
  function dur(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + ":" : "") + (m < 10 && h ? "0" : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
  }
  function tickCountdown() {
    if (!state.event) { return; }
    var now = Date.now() + state.clockOffset;
    var start = Date.parse(state.event.start_at), end = Date.parse(state.event.end_at);
    var text;
    if (state.event.state === "ended" || state.event.state === "cancelled" || now >= end) { text = L.ended; }
    else if (now < start) { text = fmt(L.starts_in, { time: dur(start - now) }); }
    else { text = fmt(L.started_ago, { time: dur(now - start) }) + " · " + fmt(L.ends_in, { time: dur(end - now) }); }
    setText("wall-countdown", text);
  }

  function applyCommon(v) {
    state.event = v.event;
    state.seq = v.seq;
    root.dataset.seq = v.seq;
    renderEvent(); renderCounters(v.counters); renderAttention(v.attention, v.attention_total); renderFeed(v.feed);
  }
  function applySnapshot(snap) {
    if (snap.view !== "groups") { window.location.reload(); return; }  // no longer a national wall
    armSafetyResync();
    state.room = snap.room;
    state.groups = {};
    state.order = [];
    snap.groups.forEach(function (g) { state.groups[g.id] = g; state.order.push(g.id); });
    state.host = snap.tiles.length ? snap.tiles[0] : null;
    state.clockOffset = Date.parse(snap.event.now) - Date.now();
    Object.keys(pending).forEach(function (k) { if (+k <= snap.seq) { delete pending[k]; } });
    Object.keys(recent).forEach(function (k) {
      if (+k > snap.seq && !pending[k] && recent[k].room === snap.room) { pending[k] = recent[k]; }
    });
    renderTiles();
    applyCommon(snap);
    drain();
  }
  function applyDelta(d) {
    var unknown = false;
    d.groups.forEach(function (g) {
      if (!state.groups[g.id]) { unknown = true; return; }
      state.groups[g.id] = g;
      var old = document.getElementById("group-" + g.id), fresh = renderGroup(g);
      if (old) { if (old.dataset.status !== g.status) { fresh.classList.add("changed"); } old.parentNode.replaceChild(fresh, old); }
    });
    d.tiles.forEach(function (t) {
      if (!state.host || state.host.id !== t.id) { unknown = true; return; }
      state.host = Object.assign({}, state.host, t);
      var old = document.getElementById("tile-" + t.id);
      if (old) { old.parentNode.replaceChild(renderHost(state.host), old); }
    });
    applyCommon(d);
    recent[d.seq] = d;
    Object.keys(recent).forEach(function (k) { if (+k <= d.seq - RECENT_KEPT) { delete recent[k]; } });
    if (unknown) { resync(); }
  }
  function drain() {
    while (state.seq !== null && pending[state.seq + 1]) {
      var next = pending[state.seq + 1];
      delete pending[state.seq + 1];
      applyDelta(next);
    }
    if (!Object.keys(pending).length && gapTimer) { clearTimeout(gapTimer); gapTimer = null; }
  }

  var socket = window.io({ transports: ["websocket"], reconnection: true, reconnectionDelayMax: 10000 });
  function request(kind) {
    socket.emit(kind, { event: eventId }, function (ack) { if (!ack || !ack.ok) { setConn("refused"); } });
  }
  function resync() {
    if (gapTimer) { clearTimeout(gapTimer); gapTimer = null; }
    pending = {};
    if (socket.connected) { request("resync"); }
  }
  socket.on("connect", function () { setConn("live"); state.seq = null; request("join"); });
  socket.on("disconnect", function () { setConn("reconnecting"); state.seq = null; });
  socket.on("connect_error", function () { setConn("reconnecting"); });
  socket.on("wall_snapshot", function (snap) { if (snap.event_id === eventId) { applySnapshot(snap); } });
  socket.on("wall_delta", function (d) {
    if (d.room !== state.room || state.seq === null || d.seq <= state.seq || d.view !== "groups") { return; }
    pending[d.seq] = d;
    drain();
    if (Object.keys(pending).length && !gapTimer) { gapTimer = setTimeout(resync, resyncDelay()); }
  });
  socket.on("wall_tick", function (t) {
    if (t.room !== state.room || state.seq === null || t.seq <= state.seq || gapTimer) { return; }
    gapTimer = setTimeout(resync, resyncDelay());
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { resync(); } });
  setInterval(tickCountdown, 1000);
  var fsButton = document.getElementById("wall-fullscreen");
  if (fsButton) {
    fsButton.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
    });
  }
})();

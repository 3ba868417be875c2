// The live wall: a snapshot on (re)join, then numbered deltas; a gap or a reconnect resynchronises.
// Protocol: see launch/realtime/publisher.py. No inline scripts (CSP): labels come from #wall-labels.
(function () {
  "use strict";
  var root = document.getElementById("wall");
  if (!root) { return; }
  var L = JSON.parse(document.getElementById("wall-labels").textContent);
  var eventId = parseInt(root.dataset.event, 10);
  var districtId = root.dataset.district ? parseInt(root.dataset.district, 10) : null;
  var lang = root.dataset.lang || "vi";
  var timeFmt = new Intl.DateTimeFormat(lang, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", hour12: false });
  var GAP_GRACE_MS = 1500;
  var ATTENTION_MAX = 60;
  // Many viewers that must resync at once (a restart, a lost message) spread their requests over this.
  var RESYNC_JITTER_MS = 3000;
  var FEED_LENGTH = 30;
  function resyncDelay() { return GAP_GRACE_MS + Math.floor(Math.random() * RESYNC_JITTER_MS); }
  // A full re-read is only a safety net: the deltas are self-consistent, and the counter check (and,
  // scaled out, wall_tick) catch a real loss. SAFETY_RESYNC_MS after the last snapshot plus a random
  // half of it again, so walls opened together (a restart, a room of projectors) never ask together.
  var SAFETY_RESYNC_MS = 10 * 60 * 1000;
  var safetyTimer = null;
  function armSafetyResync() {
    if (safetyTimer) { clearTimeout(safetyTimer); }
    safetyTimer = setTimeout(function () { resync(); }, SAFETY_RESYNC_MS + Math.floor(Math.random() * SAFETY_RESYNC_MS / 2));
  }

  var state = { seq: null, room: null, tiles: {}, order: [], event: null, counters: null, feed: [], clockOffset: 0 };
  var pending = {};
  var recent = {};  // the last RECENT_KEPT deltas applied, by number (see applySnapshot)
  var RECENT_KEPT = 64;
  var gapTimer = null;
  var tilesEl = document.getElementById("tiles");
  var filters = { district: "", state: "" };

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k] === undefined ? "" : values[k]; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function hhmm(iso) { return iso ? timeFmt.format(new Date(iso)) : ""; }
  function setText(id, value) { var e = document.getElementById(id); if (e) { e.textContent = value; } }
  var projector = root.dataset.projector === "1";

  // ---- state icons: colour is never the only cue (colour-blind safe): icon + word + colour ----
  var SVG = "http://www.w3.org/2000/svg";
  var ICONS = {
    invited: [["circle", { cx: 12, cy: 12, r: 7.5, fill: "none", "stroke-width": 3 }]],
    tested: [["circle", { cx: 12, cy: 12, r: 7.5, fill: "none", "stroke-width": 3 }],
             ["path", { d: "M12 4.5a7.5 7.5 0 0 1 0 15z", stroke: "none" }]],
    checked_in: [["path", { d: "M4.5 12.5l5 5L19.5 6.5", fill: "none", "stroke-width": 3.6 }]],
    live: [["circle", { cx: 12, cy: 12, r: 5, stroke: "none" }],
           ["circle", { cx: 12, cy: 12, r: 9.5, fill: "none", "stroke-width": 2.2 }]],
    signal_lost: [["path", { d: "M3.5 9.5a12 12 0 0 1 17 0M7 13.5a7 7 0 0 1 10 0", fill: "none", "stroke-width": 2.6 }],
                  ["circle", { cx: 12, cy: 18, r: 2, stroke: "none" }],
                  ["path", { d: "M4 4l16 16", fill: "none", "stroke-width": 2.8 }]],
    problem: [["path", { d: "M12 3.2L1.8 20.8h20.4z", fill: "none", "stroke-width": 2.4, "stroke-linejoin": "round" }],
              ["path", { d: "M12 9.5v5.5", fill: "none", "stroke-width": 3 }],
              ["circle", { cx: 12, cy: 18, r: 1.6, stroke: "none" }]],
    absent: [["path", { d: "M5.5 5.5l13 13M18.5 5.5l-13 13", fill: "none", "stroke-width": 3.6 }]]
  };
  function icon(status) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "st-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    (ICONS[status] || ICONS.invited).forEach(function (part) {
      var e = document.createElementNS(SVG, part[0]);
      e.setAttribute("fill", "currentColor");
      e.setAttribute("stroke", "currentColor");
      e.setAttribute("stroke-linecap", "round");
      Object.keys(part[1]).forEach(function (k) { e.setAttribute(k, part[1][k]); });
      svg.appendChild(e);
    });
    return svg;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".legend [data-status] .st-icon"), function (span) {
    span.parentNode.replaceChild(icon(span.parentNode.dataset.status), span);
  });

  // The type prefix ("Xã", "Phường") as a small marker before the short name; the full name stays
  // in the title and for screen readers.
  function nameEl(tag, cls, mark, shortName, fullName, divisionType) {
    var h = el(tag, cls);
    h.title = fullName;
    h.setAttribute("aria-label", fullName);
    if (mark) {
      var k = el("abbr", "tile-kind", mark);
      k.title = divisionType ? divisionType.charAt(0).toUpperCase() + divisionType.slice(1) : "";
      k.setAttribute("aria-hidden", "true");
      h.appendChild(k);
    }
    h.appendChild(el("span", "tile-label", shortName || fullName));
    return h;
  }

  // ---- connection status ----
  function setConn(kind) {
    var c = document.getElementById("wall-conn");
    c.dataset.conn = kind;
    c.textContent = kind === "live" ? L.connected : kind === "refused" ? L.refused : L.reconnecting;
  }

  // ---- rendering ----
  function renderTile(t) {
    var a = el("article", "tile st-" + t.status);
    a.id = "tile-" + t.id;
    a.dataset.point = t.id;
    a.dataset.status = t.status;
    a.dataset.district = t.district_id;
    if (t.is_host) { a.classList.add("tile-host"); }
    a.appendChild(t.is_host ? nameEl("h4", "tile-name", L.host_mark, t.short_name, t.name, L.host_point)
                            : nameEl("h4", "tile-name", t.division_mark, t.short_name, t.name, t.division_type));
    var s = el("p", "tile-status");
    s.appendChild(icon(t.status));
    var word = projector ? (L.status_short[t.status] || L.status[t.status]) : L.status[t.status];
    s.appendChild(el("strong", null, word || t.status));
    a.appendChild(s);
    var facts = el("ul", "facts");
    [["in_call", t.in_call, L.short.in_call, t.in_call ? L.in_call : L.not_in_call],
     ["checked_in", t.checked_in, t.checked_in ? hhmm(t.checked_in_at) : L.short.checked_in,
      t.checked_in ? fmt(L.checked_in_at, { time: hhmm(t.checked_in_at) }) : L.not_checked_in],
     ["page_live", t.page_live, L.short.page_live, t.page_live ? L.page_live
       : t.page_closed_at ? fmt(L.page_closed, { time: hhmm(t.page_closed_at) }) : L.page_off]].forEach(function (f) {
      var li = el("li", "fact " + (f[1] ? "on" : "off"));
      li.dataset.fact = f[0];
      if (f[0] === "page_live" && !t.page_live && t.page_closed_at) { li.dataset.closed = "1"; }
      li.title = f[3];
      li.appendChild(el("span", null, f[2]));
      li.appendChild(el("span", "visually-hidden", " (" + f[3] + ")"));
      facts.appendChild(li);
    });
    a.appendChild(facts);
    var present = t.headcount !== null && t.headcount !== undefined ? t.headcount : t.attendees;
    // Unknown expected attendance is "—" (never "x/0"): the figure alone.
    var people = el("p", "tile-people", t.expected === null || t.expected === undefined
      ? fmt(L.headcount_only, { present: present }) : fmt(L.headcount, { present: present, expected: t.expected }));
    if (t.attendees) { people.appendChild(el("span", "tile-att", " · " + fmt(L.attendees, { n: t.attendees }))); }
    a.appendChild(people);
    if (t.problem) {
      var p = el("p", "tile-problem", (L.problem[t.problem.kind] || t.problem.kind) + (t.problem.text ? ": " + t.problem.text : ""));
      a.appendChild(p);
    }
    a.title = t.name + " — " + (L.status[t.status] || t.status);
    return a;
  }

  function groupsOf() {
    var groups = [], byId = {};
    state.order.forEach(function (id) {
      var t = state.tiles[id];
      var g = byId[t.district_id];
      if (!g) { g = byId[t.district_id] = { id: t.district_id, name: t.district_name, head: null, ids: [] }; groups.push(g); }
      if (t.unit_id === t.district_id) { g.head = t; }
      g.ids.push(id);
    });
    return groups;
  }

  function renderAllTiles() {
    tilesEl.textContent = "";
    groupsOf().forEach(function (g) {
      var sec = el("section", "wgroup" + (g.id === 0 ? " wgroup-host" : ""));
      sec.dataset.district = g.id;
      var h = el("h3", "wgroup-name");
      h.appendChild(g.head ? nameEl("span", "wgroup-label", g.head.division_mark, g.head.short_name, g.name,
                                    g.head.division_type) : el("span", "wgroup-label", g.name));
      var count = el("span", "wgroup-count");
      count.id = "gcount-" + g.id;
      h.appendChild(count);
      sec.appendChild(h);
      var grid = el("div", "tilegrid");
      g.ids.forEach(function (id) { grid.appendChild(renderTile(state.tiles[id])); });
      sec.appendChild(grid);
      tilesEl.appendChild(sec);
    });
    tilesEl.setAttribute("aria-busy", "false");
    applyFilters();
  }

  // ---- projector: every tile on one screen, text as large as the screen allows ----
  // The tiles area is a grid of equal cells (tiles and district headers). Find the largest font
  // size at which all visible cells fit the area with no name cut: rows of that size fill the
  // height, the columns follow, and the browser itself measures whether every text fits.
  var MIN_FONT = 9, MAX_FONT = 40;
  function cellsShown() {
    return Array.prototype.filter.call(tilesEl.querySelectorAll(".tile, .wgroup-name"), function (c) {
      return c.offsetParent !== null;
    });
  }
  function overflows(e) { return e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1; }
  function tryFont(f, count) {
    var gap = Math.max(2, Math.round(f * 0.22));
    tilesEl.style.setProperty("--tf", f + "px");
    tilesEl.style.setProperty("--tgap", gap + "px");
    var tileH = tilesEl.querySelector(".tile");
    if (!tileH) { return true; }
    var h = tileH.getBoundingClientRect().height;
    var rows = Math.floor((tilesEl.clientHeight + gap) / (h + gap));
    if (rows < 1) { return false; }
    var cols = Math.max(1, Math.ceil(count / rows));
    tilesEl.style.setProperty("--tcols", cols);
    if (tilesEl.scrollHeight > tilesEl.clientHeight + 1) { return false; }
    var texts = tilesEl.querySelectorAll(".tile-name, .tile-status, .wgroup-name");
    for (var i = 0; i < texts.length; i += 1) {
      if (texts[i].offsetParent !== null && overflows(texts[i])) { return false; }
    }
    return true;
  }
  function fitProjector() {
    if (!projector || !tilesEl.querySelector(".tile")) { return; }
    var count = cellsShown().length;
    var lo = MIN_FONT, hi = MAX_FONT;
    if (tryFont(hi, count)) { lo = hi; }
    while (hi - lo > 0.25) {
      var mid = (lo + hi) / 2;
      if (tryFont(mid, count)) { lo = mid; } else { hi = mid; }
    }
    tryFont(lo, count);
    root.dataset.fit = String(Math.round(lo * 4) / 4);
    fittedCount = count;
  }
  var fittedCount = null;
  // Projector counters are as large as the column allows: a wider number ("186/186", "12.345/20.000")
  // is made smaller rather than cut.
  function fitCounters() {
    if (!projector) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".wstat strong"), function (e) {
      e.style.fontSize = "";
      var size = parseFloat(window.getComputedStyle(e).fontSize);
      while (e.scrollWidth > e.clientWidth + 1 && size > 12) {
        size = Math.floor(size * 0.94);
        e.style.fontSize = size + "px";
      }
    });
  }
  function refitIfChanged() {
    if (projector && fittedCount !== null && cellsShown().length !== fittedCount) { fitProjector(); }
  }
  var fitTimer = null;
  window.addEventListener("resize", function () {
    if (!projector) { return; }
    clearTimeout(fitTimer);
    fitTimer = setTimeout(function () { fitCounters(); fitProjector(); renderAttention(); }, 150);
  });

  function replaceTile(t) {
    var old = document.getElementById("tile-" + t.id);
    var fresh = renderTile(t);
    if (old) {
      if (old.dataset.status !== t.status) { fresh.classList.add("changed"); }
      old.parentNode.replaceChild(fresh, old);
    }
  }

  function renderCounters() {
    var c = state.counters;
    if (!c) { return; }
    setText("c-checked", c.checked_in);
    setText("c-invited", c.invited);
    setText("c-present", c.attendees_present);
    setText("c-expected", c.attendees_expected === null || c.attendees_expected === undefined ? "\u2014" : c.attendees_expected);
    setText("c-live", c.live);
    setText("c-incall", c.in_call);
    var levels = [];
    Object.keys(c.levels).forEach(function (k) {
      var v = c.levels[k];
      if (v.invited) { levels.push(v.checked_in + "/" + v.invited + " " + (L.level && L.level[k] ? L.level[k] : k)); }
    });
    setText("c-levels", levels.join(" · "));
    var ul = document.getElementById("c-districts");
    if (ul) {
      ul.textContent = "";
      c.districts.forEach(function (d) {
        var li = el("li", d.checked_in === d.invited ? "full" : "");
        li.appendChild(el("span", "dname", d.name));
        var bar = el("meter");
        bar.min = 0; bar.max = d.invited || 1; bar.value = d.checked_in;
        li.appendChild(bar);
        li.appendChild(el("span", "dnum", d.checked_in + "/" + d.invited));
        ul.appendChild(li);
        setText("gcount-" + d.id, " " + d.checked_in + "/" + d.invited);
      });
    }
    fitCounters();
  }

  function attentionList() {
    var rank = { problem: 0, signal_lost: 1 };
    var list = [];
    state.order.forEach(function (id, index) {
      var t = state.tiles[id];
      if (t.problem || t.status === "signal_lost" || (!t.checked_in && !t.is_host)) {
        list.push({ t: t, r: rank[t.status] !== undefined ? rank[t.status] : 2, i: index });
      }
    });
    list.sort(function (a, b) { return a.r - b.r || a.i - b.i; });
    return list;
  }

  function renderAttention() {
    var ol = document.getElementById("attention");
    var list = attentionList();
    var more = document.getElementById("attention-more");
    ol.textContent = "";
    more.hidden = true;
    setText("attention-count", list.length ? "(" + list.length + ")" : "");
    setText("c-attention", list.length);
    if (!list.length) { ol.appendChild(el("li", "empty-line", L.all_clear)); return; }
    list.slice(0, ATTENTION_MAX).forEach(function (item) {
      var t = item.t;
      var reason = t.problem ? "problem" : t.status === "signal_lost" ? "signal_lost" : "not_checked_in";
      var li = el("li", "att st-" + t.status);
      li.dataset.point = t.id;
      li.dataset.reason = reason;
      var head = el("div", "att-head");
      head.appendChild(el("strong", null, t.name));
      head.appendChild(el("span", "att-reason", L.reason[reason] + (t.problem ? " — " + (L.problem[t.problem.kind] || t.problem.kind) : "")));
      li.appendChild(head);
      var who = el("div", "att-who");
      if (t.host_name) { who.appendChild(el("span", null, t.host_name + " ")); }
      if (t.host_phone) {
        var tel = el("a", "tel", t.host_phone);
        tel.href = "tel:" + t.host_phone.replace(/[^0-9+]/g, "");
        who.appendChild(tel);
      }
      who.appendChild(el("small", null, " · " + (t.last_seen_at ? fmt(L.last_seen, { time: hhmm(t.last_seen_at) }) : L.never_seen)));
      li.appendChild(who);
      if (t.problem && t.problem.id && root.dataset.resolveUrl) { li.appendChild(resolveButton(t)); }
      ol.appendChild(li);
    });
    var shown = Math.min(list.length, ATTENTION_MAX);
    if (projector) {
      // Keep the items that fit the column whole; the rest are counted on the "+N more" line.
      more.hidden = false;
      more.textContent = fmt(L.more, { n: 0 });
      var bottom = ol.getBoundingClientRect().bottom;
      var items = ol.children;
      for (var i = 0; i < items.length; i += 1) {
        if (items[i].getBoundingClientRect().bottom > bottom + 0.5) { shown = i; break; }
      }
      while (items.length > shown) { ol.removeChild(items[items.length - 1]); }
    }
    more.hidden = shown >= list.length;
    more.textContent = fmt(L.more, { n: list.length - shown });
    root.dataset.attentionShown = String(shown);
  }

  // Operators mark a problem resolved from here; the wall changes when the server's delta comes.
  function resolveButton(t) {
    var b = el("button", "att-resolve", L.resolve);
    b.type = "button";
    b.dataset.problem = t.problem.id;
    b.addEventListener("click", function () {
      b.disabled = true;
      var url = root.dataset.resolveUrl.replace("/points/0/", "/points/" + t.id + "/")
        .replace("/problems/0/", "/problems/" + t.problem.id + "/");
      fetch(url, { method: "POST", credentials: "same-origin",
                   headers: { "X-CSRFToken": root.dataset.csrf, "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (a) { if (!a.ok) { b.disabled = false; b.title = a.message || a.code; } },
              function () { b.disabled = false; });
    });
    return b;
  }

  function renderFeed() {
    var ol = document.getElementById("feed");
    ol.textContent = "";
    if (!state.feed.length) { ol.appendChild(el("li", "empty-line", L.no_activity)); return; }
    state.feed.forEach(function (a) {
      var li = el("li", "feed-" + a.kind);
      li.appendChild(el("time", null, hhmm(a.at)));
      // Deltas' feed rows carry the point's id only: its name is on its tile.
      var name = a.point_name || (a.point_id && state.tiles[a.point_id] ? state.tiles[a.point_id].name : "");
      li.appendChild(el("strong", null, " " + (name || "") + " "));
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

  function renderAll() { renderEvent(); renderAllTiles(); renderCounters(); fitProjector(); renderAttention(); renderFeed(); }

  // ---- filters ----
  function applyFilters() {
    Array.prototype.forEach.call(tilesEl.querySelectorAll(".wgroup"), function (sec) {
      var groupShown = !filters.district || sec.dataset.district === filters.district || sec.dataset.district === "0";
      var any = false;
      Array.prototype.forEach.call(sec.querySelectorAll(".tile"), function (tile) {
        var t = state.tiles[tile.dataset.point];
        var stateOk = !filters.state || t.status === filters.state ||
          (filters.state === "attention" && (t.problem || t.status === "signal_lost" || (!t.checked_in && !t.is_host)));
        var show = groupShown && stateOk;
        tile.hidden = !show;
        any = any || show;
      });
      sec.hidden = !any;
    });
  }
  function readFilters() {
    var params = new URLSearchParams(window.location.search);
    filters.district = params.get("district") || "";
    filters.state = params.get("state") || "";
    var fd = document.getElementById("f-district"), fs = document.getElementById("f-state");
    if (fd) { fd.value = filters.district; }
    if (fs) { fs.value = filters.state; }
  }
  var form = document.getElementById("wall-filters");
  if (form) {
    form.addEventListener("change", function () {
      var fd = document.getElementById("f-district"), fs = document.getElementById("f-state");
      filters.district = fd ? fd.value : "";
      filters.state = fs ? fs.value : "";
      var params = new URLSearchParams(window.location.search);
      ["district", "state"].forEach(function (k) { if (filters[k]) { params.set(k, filters[k]); } else { params.delete(k); } });
      var q = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
      applyFilters();
      fitProjector();
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
  }
  readFilters();

  // ---- protocol ----
  function applySnapshot(snap) {
    armSafetyResync();
    state.room = snap.room;
    state.seq = snap.seq;
    state.tiles = {};
    state.order = [];
    snap.tiles.forEach(function (t) { state.tiles[t.id] = t; state.order.push(t.id); });
    state.event = snap.event;
    state.counters = snap.counters;
    state.feed = snap.feed;
    state.clockOffset = Date.parse(snap.event.now) - Date.now();
    Object.keys(pending).forEach(function (k) { if (+k <= state.seq) { delete pending[k]; } });
    // A snapshot numbered below deltas already applied (they overtook it on the way): apply them
    // again on top (values, never increments), instead of taking them for lost.
    Object.keys(recent).forEach(function (k) {
      if (+k > state.seq && !pending[k] && recent[k].room === state.room) { pending[k] = recent[k]; }
    });
    renderAll();
    root.dataset.seq = state.seq;
    drain();
  }

  // Counters in a delta are the changed values only: nested objects merge by key, lists of objects
  // by their id; `full` replaces them all.
  function mergeValues(into, diff) {
    Object.keys(diff).forEach(function (k) {
      var v = diff[k], cur = into[k];
      if (Array.isArray(v) && Array.isArray(cur)) {
        v.forEach(function (item) {
          var found = null;
          for (var i = 0; i < cur.length; i++) { if (cur[i] && cur[i].id === item.id) { found = cur[i]; break; } }
          if (found) { mergeValues(found, item); } else { cur.push(item); }
        });
      } else if (v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)) {
        mergeValues(cur, v);
      } else {
        into[k] = v;
      }
    });
  }

  // New feed rows first, each row once, newest first, at most FEED_LENGTH.
  function mergeFeed(fresh, old) {
    var seen = {}, out = [];
    fresh.concat(old).forEach(function (a) { if (!seen[a.id]) { seen[a.id] = true; out.push(a); } });
    out.sort(function (a, b) { return (Date.parse(b.at) - Date.parse(a.at)) || (b.id - a.id); });
    return out.slice(0, FEED_LENGTH);
  }

  function applyDelta(d) {
    var unknown = false;
    (d.tiles || []).forEach(function (t) {
      // Deltas carry a tile's changed fields only; its name and place came with the snapshot.
      if (!state.tiles[t.id]) { unknown = true; return; }
      // Its static facts changed (the directory edited a name, host or phone): a snapshot brings them.
      if (t.facts && state.tiles[t.id].facts && t.facts !== state.tiles[t.id].facts) { unknown = true; }
      var merged = Object.assign({}, state.tiles[t.id], t);
      state.tiles[t.id] = merged;
      replaceTile(merged);
    });
    if (unknown || (d.removed && d.removed.length)) { unknownTile = true; scheduleResync(); }
    if (d.event) { state.event = d.event; }
    if (d.full || !state.counters) { state.counters = d.counters; }
    else if (d.counters) { mergeValues(state.counters, d.counters); }
    if (d.feed && d.feed.length) { state.feed = mergeFeed(d.feed, state.feed); }
    state.seq = d.seq;
    recent[d.seq] = d;
    Object.keys(recent).forEach(function (k) { if (+k <= d.seq - RECENT_KEPT) { delete recent[k]; } });
    root.dataset.seq = state.seq;
    renderEvent(); renderCounters(); applyFilters(); refitIfChanged(); renderAttention(); renderFeed();
    if (!agreesWithCounters(state.counters)) { scheduleResync(); }
  }

  // The counters are the sum of the tiles the server sent this room. If our tiles add up to something
  // else, an update was lost without a gap (a web process died with updates still buffered, Redis
  // restarted, a new sender found the database ahead of us): take a fresh snapshot.
  function agreesWithCounters(c) {
    if (!c) { return true; }
    var checked = 0, attendees = 0;
    state.order.forEach(function (id) {
      var t = state.tiles[id];
      if (!t) { return; }
      attendees += t.attendees || 0;
      if (!t.is_host && t.checked_in) { checked += 1; }
    });
    return checked === c.checked_in && attendees === c.attendee_checkins;
  }
  var mismatchTimer = null, unknownTile = false;
  function scheduleResync() {
    // A snapshot may be a moment ahead of the deltas; give the next one a moment before resyncing.
    if (mismatchTimer) { return; }
    mismatchTimer = setTimeout(function () {
      mismatchTimer = null;
      if (unknownTile || !agreesWithCounters(state.counters)) { unknownTile = false; resync(); }
    }, resyncDelay());
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
    var data = { event: eventId };
    if (districtId !== null) { data.district = districtId; }
    socket.emit(kind, data, function (ack) { if (!ack || !ack.ok) { setConn("refused"); } });
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
  // Meeting participants no point matched (whole wall only): the list is sent whole on every change.
  socket.on("meeting_participants", function (m) {
    var box = document.getElementById("participants-box");
    if (!box || m.event_id !== eventId) { return; }
    var list = document.getElementById("participants");
    list.textContent = "";
    m.items.forEach(function (p) {
      list.appendChild(el("li", null, p.name + " · " + (L.participant[p.status] || p.status)));
    });
    setText("participants-count", String(m.items.length));
    box.hidden = m.items.length === 0;
  });
  socket.on("wall_delta", function (d) {
    if (d.room !== state.room || state.seq === null || d.seq <= state.seq) { return; }
    pending[d.seq] = d;
    drain();
    if (Object.keys(pending).length && !gapTimer) { gapTimer = setTimeout(resync, resyncDelay()); }
  });
  // Scaled out, the server tells each room its number every few seconds: a number above ours means
  // the last delta(s) never came (nothing after them showed a gap); give them a moment, then resync.
  socket.on("wall_tick", function (t) {
    if (t.room !== state.room || state.seq === null || t.seq <= state.seq || gapTimer) { return; }
    gapTimer = setTimeout(resync, resyncDelay());
  });
  // Back from a sleeping laptop or a hidden tab: take a fresh snapshot rather than trust what we missed.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { resync(); } });
  setInterval(tickCountdown, 1000);

  var fsButton = document.getElementById("wall-fullscreen");
  if (fsButton) {
    fsButton.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
    });
  }
})();

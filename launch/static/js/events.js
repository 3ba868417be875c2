// Events pages: show only the fields that apply, and keep the readiness panel fresh (no inline scripts: CSP).
(function () {
  "use strict";
  // Event form: the selection boxes only matter when "a selection" is chosen.
  var select = document.querySelector("[data-invite-select]");
  if (select) {
    var sync = function () {
      var chosen = document.querySelector("input[name=invite_mode]:checked");
      select.hidden = !(chosen && chosen.value === "select");
    };
    Array.prototype.forEach.call(document.querySelectorAll("input[name=invite_mode]"), function (r) {
      r.addEventListener("change", sync);
    });
    sync();
  }
  // Channel forms: show the webhook or the e-mail fields.
  var kind = document.querySelector("[data-channel-kind]");
  if (kind) {
    var showKind = function () {
      Array.prototype.forEach.call(document.querySelectorAll("fieldset[data-kind]"), function (f) {
        f.hidden = f.dataset.kind !== kind.value;
      });
    };
    kind.addEventListener("change", showKind);
    showKind();
  }
  // Event page: refresh the "points ready" count every 30 s.
  var panel = document.querySelector("[data-readiness-url]");
  if (panel && window.fetch) {
    var count = panel.querySelector("[data-ready-count]");
    setInterval(function () {
      fetch(panel.dataset.readinessUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !count) { return; }
          count.textContent = String(data.ready);
          Array.prototype.forEach.call(panel.querySelectorAll("tr[data-point-id]"), function (row) {
            var bad = data.not_ready.some(function (p) { return String(p.point_id) === row.dataset.pointId; });
            row.dataset.ready = bad ? "0" : "1";
          });
        })
        .catch(function () { /* offline: try again next time */ });
    }, 30000);
  }
})();

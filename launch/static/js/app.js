// Small progressive enhancements shared by every page (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  // Prevent double submits: disable the submit button once a form is on its way.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); return; }
    if (form.dataset.submitting === "1") { e.preventDefault(); return; }
    form.dataset.submitting = "1";
    // Which page the form was on, for a session that ended meanwhile (web/kept_forms.py): the
    // Referer header alone can be missing (a proxy, a privacy setting, a page restored from cache).
    if ((form.method || "").toLowerCase() === "post" && !form.querySelector("input[name=_page]")) {
      var page = document.createElement("input");
      page.type = "hidden"; page.name = "_page"; page.value = location.pathname + location.search;
      form.appendChild(page);
    }
    // A disabled button is left out of what the form sends: keep the clicked button's name=value
    // (e.g. to=ended) in a hidden field before disabling it.
    var submitter = e.submitter;
    if (submitter && submitter.name) {
      var keep = document.createElement("input");
      keep.type = "hidden"; keep.name = submitter.name; keep.value = submitter.value; keep.dataset.submitter = "1";
      form.appendChild(keep);
    }
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
      b.disabled = true; b.dataset.label = b.textContent; if (b.dataset.busy) { b.textContent = b.dataset.busy; }
    });
  });
  // Phones: the menu button opens and closes the menu (the header is one line otherwise).
  var menuButton = document.getElementById("menu-button");
  if (menuButton) {
    menuButton.addEventListener("click", function () {
      var open = document.getElementById("topbar").classList.toggle("open");
      menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // A form sent after the session had ended comes back filled in (#kept-form, see web/kept_forms.py).
  var keptEl = document.getElementById("kept-form");
  if (keptEl) {
    try {
      var kept = JSON.parse(keptEl.textContent);
      Array.prototype.forEach.call(document.forms, function (form) {
        if (new URL(form.action, location.href).pathname !== kept.action) { return; }
        Object.keys(kept.fields).forEach(function (name) {
          var values = [].concat(kept.fields[name]);
          Array.prototype.forEach.call(form.elements, function (input) {
            if (input.name !== name || input.type === "hidden" || input.type === "password") { return; }
            if (input.type === "checkbox" || input.type === "radio") { input.checked = values.indexOf(input.value) >= 0; }
            else { input.value = values[0]; }
          });
        });
        form.dataset.kept = "1";
        var note = document.createElement("p");
        note.className = "flash flash-info kept-note"; note.setAttribute("role", "status"); note.textContent = kept.note;
        form.insertBefore(note, form.firstChild);
        form.scrollIntoView({ block: "center" });
      });
    } catch (e) { /* nothing kept */ }
  }
  // Print buttons of the printable sheets.
  Array.prototype.forEach.call(document.querySelectorAll("[data-print-page]"), function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // Coming back with the browser's back button re-enables forms.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submitting]"), function (f) {
      delete f.dataset.submitting;
      Array.prototype.forEach.call(f.querySelectorAll("input[data-submitter]"), function (i) { i.remove(); });
      Array.prototype.forEach.call(f.querySelectorAll("button[type=submit]"), function (b) { b.disabled = false; });
    });
  });
})();

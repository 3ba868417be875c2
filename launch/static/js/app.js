// Small progressive enhancements shared by every page (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  // Prevent double submits: disable the submit button once a form is on its way.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); return; }
    if (form.dataset.submitting === "1") { e.preventDefault(); return; }
    form.dataset.submitting = "1";
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

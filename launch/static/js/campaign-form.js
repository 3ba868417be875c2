// Campaign form: show the date fields or the "N days from the launch" fields, as chosen.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  if (!form) { return; }
  function sync() {
    var checked = form.querySelector("input[name=date_mode]:checked");
    var mode = checked ? checked.value : "dates";
    Array.prototype.forEach.call(form.querySelectorAll("[data-mode]"), function (el) {
      el.hidden = el.dataset.mode !== mode;
    });
  }
  form.addEventListener("change", function (e) { if (e.target.name === "date_mode") { sync(); } });
  sync();
})();

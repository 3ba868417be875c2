// Report form: changing the unit or the period shows that unit's numbers for that period.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();

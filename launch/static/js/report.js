// The attendance report: the replayed timeline as a Chart.js line chart, and the print button.
(function () {
  "use strict";
  var button = document.getElementById("print-report");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var canvas = document.getElementById("timeline-chart");
  if (!canvas || !window.Chart) { return; }
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var names = JSON.parse(document.getElementById("timeline-labels").textContent);
  var lang = document.documentElement.lang || "vi";
  var fmt = new Intl.DateTimeFormat(lang, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", hour12: false });
  var labels = data.labels.map(function (iso) { return fmt.format(new Date(iso)); });
  function series(label, values, color, dash) {
    return { label: label, data: values, borderColor: color, backgroundColor: color, borderDash: dash || [],
             pointRadius: 0, borderWidth: 2, stepped: true, tension: 0 };
  }
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: labels,
      datasets: [
        series(names.checked_in, data.checked_in, "#1e7b34"),
        series(names.in_call, data.in_call, "#0b5cab", [6, 3]),
        series(names.page_live, data.page_live, "#b25e00", [2, 2]),
        series(names.invited, data.labels.map(function () { return data.invited; }), "#9aa3ae", [1, 4])
      ]
    },
    options: {
      animation: false, maintainAspectRatio: false, responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, suggestedMax: data.invited }, x: { ticks: { maxTicksLimit: 12 } } },
      plugins: { legend: { position: "bottom" } }
    }
  });
})();

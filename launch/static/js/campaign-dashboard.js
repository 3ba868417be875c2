// Campaign dashboard: the trend chart, and live refresh (Socket.IO "campaign_update", else every 60 s).
(function () {
  "use strict";
  var live = document.getElementById("campaign-live");
  var status = document.getElementById("campaign-live-status");
  var canvas = document.getElementById("campaign-trend");
  var chart = null;

  function trendData(trend) {
    var labels = canvas.dataset;
    var sets = [
      {type: "bar", label: labels.labelsPeriod, data: trend.per_period, backgroundColor: "rgba(11,92,171,.35)", yAxisID: "y"},
      {type: "line", label: labels.labelsCumulative, data: trend.cumulative, borderColor: "#0b5cab", backgroundColor: "#0b5cab", tension: 0.2, yAxisID: "y"}
    ];
    if (trend.pace && trend.pace.length) {
      sets.push({type: "line", label: labels.labelsPace, data: trend.pace, borderColor: "#a15c00", borderDash: [6, 4], pointRadius: 0, yAxisID: "y"});
    }
    return {labels: trend.labels, datasets: sets};
  }

  function drawChart(trend) {
    if (!canvas || !window.Chart || !trend) { return; }
    if (chart) {
      chart.data = trendData(trend);
      chart.update();
      return;
    }
    chart = new window.Chart(canvas, {
      data: trendData(trend),
      options: {responsive: true, maintainAspectRatio: false, animation: false,
        scales: {y: {beginAtZero: true}}, plugins: {legend: {position: "bottom"}}}
    });
  }

  function initialTrend() {
    try { return canvas ? JSON.parse(canvas.dataset.trend || "null") : null; } catch (e) { return null; }
  }

  var inFlight = false;
  function refresh() {
    if (!live || inFlight) { return; }
    inFlight = true;
    fetch(live.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (typeof data.html === "string") { live.innerHTML = data.html; }
        if (data.trend) { drawChart(data.trend); }
        if (status) { status.textContent = status.textContent.replace(/\d{1,2}:\d{2}:\d{2}/, new Date().toLocaleTimeString("vi-VN", {hour12: false})); }
      })
      .catch(function () { /* the next update or the 60 s fallback tries again */ })
      .then(function () { inFlight = false; });
  }

  function connect() {
    if (!live || !window.io) { return; }
    var socket = window.io({transports: ["websocket"]});
    socket.on("connect", function () { socket.emit("join", {room: live.dataset.room}); });
    socket.on("campaign_update", function () { refresh(); });
  }

  function start() {
    drawChart(initialTrend());
    connect();
    window.setInterval(refresh, 60000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

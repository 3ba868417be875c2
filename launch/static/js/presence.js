// Host-page presence: keeps a Socket.IO connection for the point named by #presence and sends a
// heartbeat, so the live wall shows the point "live" and, if the page goes silent, "signal lost".
// <div id="presence" data-event=".." data-point=".." data-token=".." hidden> + this script.
// State for the page: #presence[data-state] = connecting | live | lost | refused | closed, and a
// "presence:state" event on document ({detail: {state}}).
// A page that goes away says so: on pagehide, or hidden (the phone put in a pocket, another app), it
// stops its heartbeats and sends a beacon to data-closed, so the wall shows the point quietly instead
// of "signal lost" 45 s later; coming back (visible again, reopened) beats at once. Only a page that
// vanishes without a word (the network or the battery gone) raises the alarm.
(function () {
  "use strict";
  var box = document.getElementById("presence");
  if (!box || !box.dataset.point) { return; }
  var CLIENT = box.dataset.client || "/static/vendor/socket.io-client-4.8.4/socket.io.min.js";

  function setState(value) {
    box.dataset.state = value;
    document.dispatchEvent(new CustomEvent("presence:state", { detail: { state: value } }));
  }

  function start() {
    var interval = 15000;
    var timer = null;
    var socket = window.io({
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelayMax: 10000,
      auth: { point: box.dataset.point, event: box.dataset.event || "", token: box.dataset.token || "" }
    });
    function beat() {
      if (!socket.connected) { return; }
      socket.emit("heartbeat", { point: box.dataset.point }, function (ack) {
        if (ack && ack.ok) {
          setState("live");
          if (ack.interval && ack.interval * 1000 !== interval) { interval = ack.interval * 1000; schedule(); }
        } else { setState("refused"); }
      });
    }
    function schedule() {
      if (timer) { clearInterval(timer); }
      timer = setInterval(beat, interval);
    }
    setState("connecting");
    socket.on("presence_ack", function (ack) {
      setState("live");
      if (ack && ack.interval) { interval = ack.interval * 1000; }
      schedule();
    });
    var said = false;  // the beacon was sent since the page last went away
    function closing() {
      if (timer) { clearInterval(timer); timer = null; }
      if (said || !box.dataset.closed || !navigator.sendBeacon) { return; }
      var body = new FormData();
      body.append("token", box.dataset.token || "");
      said = navigator.sendBeacon(box.dataset.closed, body);
      if (said) { setState("closed"); }
    }
    socket.on("connect", function () {
      // Reconnected while hidden: the server counted the connection as a heartbeat; say we are away.
      if (document.hidden) { said = false; closing(); } else { schedule(); }
    });
    socket.on("disconnect", function () { if (timer) { clearInterval(timer); timer = null; } if (!said) { setState("lost"); } });
    socket.on("connect_error", function () { setState(socket.active ? "lost" : "refused"); });
    window.addEventListener("pagehide", closing);
    // Put away: say so; back (a phone waking up, a tab coming back): beat at once and keep beating.
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { closing(); return; }
      said = false;
      beat();
      if (socket.connected) { schedule(); }
    });
    window.addEventListener("online", function () { if (!socket.connected) { socket.connect(); } else { beat(); } });
  }

  if (window.io) { start(); return; }
  var script = document.createElement("script");
  script.src = CLIENT;
  script.onload = start;
  document.head.appendChild(script);
})();

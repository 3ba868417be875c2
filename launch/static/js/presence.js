// Host-page presence: keeps a Socket.IO connection for the point named by #presence and sends a
// heartbeat, so the live wall shows the point "live" and, if the page goes silent, "signal lost".
// <div id="presence" data-event=".." data-point=".." data-token=".." hidden> + this script.
// State for the page: #presence[data-state] = connecting | live | lost | refused, and a
// "presence:state" event on document ({detail: {state}}).
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
    socket.on("connect", function () { schedule(); });
    socket.on("disconnect", function () { setState("lost"); if (timer) { clearInterval(timer); timer = null; } });
    socket.on("connect_error", function () { setState(socket.active ? "lost" : "refused"); });
    // A phone waking up or a tab coming back: say so at once.
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { beat(); } });
    window.addEventListener("online", function () { if (!socket.connected) { socket.connect(); } else { beat(); } });
  }

  if (window.io) { start(); return; }
  var script = document.createElement("script");
  script.src = CLIENT;
  script.onload = start;
  document.head.appendChild(script);
})();

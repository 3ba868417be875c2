// A queue of check-in scans kept on the phone (localStorage) until the server has answered.
// Each item carries a client id (crypto.randomUUID), so a retry after a lost answer is recorded once.
(function () {
  "use strict";
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function OfflineQueue(key, send) {
    this.key = key;          // localStorage key, one per event point
    this.send = send;        // function(item) -> Promise<{final: bool, answer}>
    this.busy = false;
    this.listeners = [];
  }
  OfflineQueue.prototype.items = function () {
    try { return JSON.parse(localStorage.getItem(this.key) || "[]"); } catch (e) { return []; }
  };
  OfflineQueue.prototype.save = function (items) {
    localStorage.setItem(this.key, JSON.stringify(items));
    this.emit({ type: "change" });
  };
  OfflineQueue.prototype.on = function (fn) { this.listeners.push(fn); };
  OfflineQueue.prototype.emit = function (ev) { this.listeners.forEach(function (fn) { fn(ev); }); };
  OfflineQueue.prototype.add = function (payload) {
    var item = Object.assign({ client_id: uuid(), scanned_dt: new Date().toISOString() }, payload);
    var items = this.items(); items.push(item); this.save(items);
    this.emit({ type: "queued", item: item });
    this.flush();
    return item;
  };
  OfflineQueue.prototype.remove = function (clientId) {
    this.save(this.items().filter(function (i) { return i.client_id !== clientId; }));
  };
  // Send waiting items one by one, oldest first; stop at the first network failure.
  OfflineQueue.prototype.flush = function () {
    var self = this;
    if (self.busy) { self.again = true; return Promise.resolve(); }
    self.busy = true;
    function next() {
      var items = self.items();
      if (!items.length) { return Promise.resolve(); }
      var item = items[0];
      return self.send(item).then(function (res) {
        if (!res.final) { return; }  // keep it; try again later
        self.remove(item.client_id);
        self.emit({ type: "answered", item: item, answer: res.answer });
        return next();
      }, function () { self.emit({ type: "offline" }); });
    }
    return next().then(function () {
      self.busy = false;
      if (self.again) { self.again = false; return self.flush(); }
    });
  };
  window.LaunchQueue = { OfflineQueue: OfflineQueue, uuid: uuid };
})();

"""The bare baselines: the simplest Flask-SocketIO check-in app one could write, run beside the app.

POST /checkin writes one row (SQLite, WAL, synchronous=NORMAL: the app's own pragmas) with a
unique client id, bumps the point's count in memory and tells every connected socket:

* BARE_EMIT=each (default): one `checkin` message {point, attendee, n} per check-in;
* BARE_EMIT=batch: the check-ins of the last BARE_BATCH_SECONDS (0.25) in one `checkins`
  message {items: [[point, attendee, n], ...]}.

No validation, no accounts, no coalescing, no resync: what it leaves out is what the app pays for.
Served by gunicorn's gevent worker with the Procfile's `web:` line (bench/run.py swaps the app
module), so it runs on the same worker model as production; `python bench/baseline_app.py PORT`
serves it on threads (the Werkzeug server, as the embedded app). BARE_DB names the SQLite file;
bench/run.py creates its table first (`init_db`).
"""
from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

from flask import Flask, jsonify, request
from flask_socketio import SocketIO


def _async_mode() -> str:
    """gevent under gunicorn's gevent worker (it monkey-patched the standard library), threading otherwise."""
    monkey = sys.modules.get("gevent.monkey")
    return "gevent" if monkey is not None and monkey.is_module_patched("socket") else "threading"


app = Flask(__name__)
socketio = SocketIO(app, async_mode=_async_mode())
DB_PATH = os.environ.get("BARE_DB", "bare.db")
BATCH = os.environ.get("BARE_EMIT", "each") == "batch"
BATCH_SECONDS = float(os.environ.get("BARE_BATCH_SECONDS", "0.25"))
_lock = threading.Lock()  # a gevent lock once patched: one writer at a time on the one connection
_conn: sqlite3.Connection | None = None
_counts: dict[int, int] = {}
_batch: list[list[int]] = []
_flusher_started = False


def _db() -> sqlite3.Connection:
    global _conn
    if _conn is None:
        _conn = sqlite3.connect(DB_PATH, timeout=30, check_same_thread=False)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute("PRAGMA synchronous=NORMAL")
    return _conn


def _flusher() -> None:
    while True:
        socketio.sleep(BATCH_SECONDS)
        with _lock:
            items = _batch[:]
            del _batch[:]
        if items:
            socketio.emit("checkins", {"items": items})


@app.post("/checkin")
def checkin():  # noqa: ANN201
    """Write one row; emit one message (or queue it for the next batch)."""
    global _flusher_started
    data = request.get_json(force=True)
    point, attendee = int(data["point_id"]), int(data["attendee_id"])
    with _lock:
        c = _db()
        try:
            c.execute("INSERT INTO checkins (client_id, attendee_id, point_id, at) VALUES (?, ?, ?, ?)",
                      (str(data["client_id"]), attendee, point, time.time()))
            c.commit()
        except sqlite3.IntegrityError:
            c.rollback()
            return jsonify({"ok": True, "repeat": True})
        n = _counts[point] = _counts.get(point, 0) + 1
        if BATCH:
            _batch.append([point, attendee, n])
            if not _flusher_started:
                _flusher_started = True
                socketio.start_background_task(_flusher)
    if not BATCH:
        socketio.emit("checkin", {"point": point, "attendee": attendee, "n": n})
    return jsonify({"ok": True, "n": n})


@app.get("/count")
def count():  # noqa: ANN201
    """Rows and distinct attendees recorded."""
    with _lock:
        rows, distinct = _db().execute("SELECT COUNT(*), COUNT(DISTINCT attendee_id) FROM checkins").fetchone()
    return jsonify({"rows": rows, "distinct": distinct})


@app.get("/healthz")
def healthz():  # noqa: ANN201
    """Up."""
    return jsonify({"ok": True})


def init_db(path: str) -> None:
    """A fresh table."""
    c = sqlite3.connect(path)
    c.execute("DROP TABLE IF EXISTS checkins")
    c.execute("CREATE TABLE checkins (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, attendee_id INTEGER, "
              "point_id INTEGER, at REAL)")
    c.commit()
    c.close()


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), allow_unsafe_werkzeug=True, log_output=False)

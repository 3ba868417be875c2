"""The baseline for the benchmark: the simplest Flask-SocketIO check-in app one could write.

POST /checkin writes one row (SQLite, one process) and emits one message per check-in to every
connected client: no coalescing, no validation beyond a unique key. The benchmark runs it beside
the real app in the same run so every figure is a ratio measured on the same machine.
"""
from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

from flask import Flask, jsonify, request
from flask_socketio import SocketIO

app = Flask(__name__)
socketio = SocketIO(app, async_mode="threading")
DB_PATH = os.environ.get("BASELINE_DB", "baseline.db")
_local = threading.local()


def conn() -> sqlite3.Connection:
    """One SQLite connection per thread."""
    if not hasattr(_local, "conn"):
        _local.conn = sqlite3.connect(DB_PATH, timeout=30)
        _local.conn.execute("PRAGMA journal_mode=WAL")
    return _local.conn


@app.post("/checkin")
def checkin():
    """Write one row, emit one message to everyone."""
    data = request.get_json(force=True)
    c = conn()
    try:
        c.execute("INSERT INTO checkins (client_id, attendee_id, point_id, at) VALUES (?, ?, ?, ?)",
                  (data["client_id"], data["attendee_id"], data["point_id"], time.time()))
        c.commit()
    except sqlite3.IntegrityError:
        return jsonify({"ok": True, "repeat": True})
    socketio.emit("checkin", {"attendee_id": data["attendee_id"], "point_id": data["point_id"]})
    return jsonify({"ok": True})


@app.get("/count")
def count():
    """Rows recorded (for the lost/double check)."""
    return jsonify({"rows": conn().execute("SELECT COUNT(*), COUNT(DISTINCT attendee_id) FROM checkins").fetchone()})


def init_db() -> None:
    """A fresh table."""
    c = sqlite3.connect(DB_PATH)
    c.execute("DROP TABLE IF EXISTS checkins")
    c.execute("CREATE TABLE checkins (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, attendee_id INTEGER, "
              "point_id INTEGER, at REAL)")
    c.commit()
    c.close()


if __name__ == "__main__":
    init_db()
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), allow_unsafe_werkzeug=True, log_output=False)

"""The wall sender's memory of what each room's viewers were sent, so that a delta carries only what changed.

Why: a delta whose counters were read apart from its tiles could disagree with them (a point
committed but not yet announced was counted, its tile not sent), and every viewer's counter check
then resynced at once. Here one model per event holds every tile as the viewers have it; a flush
reads only the changed points (`wall.load_tiles(event, ids)`), diffs them against the model, and
derives each room's counters from the model's tiles after the update. So a delta's counters are
always the sum of the tiles its viewers hold, whatever commits race with the flush.

A delta (``wall_delta``; see `launch.realtime.publisher` for the protocol) is
``{room, seq, tiles, counters, feed[, event][, full][, removed]}``:

* ``tiles``: per changed tile, its id and the fields whose value changed (any key a tile has: new
  keys of `wall.load_tiles` flow through). A tile the model has not sent since it was built (a
  new sender, a restart) is sent whole, minus its static fields (`wall.slim_tile`): the model's
  starting read may be newer than what the viewers hold.
* ``counters``: the room's counters that changed, as values, never increments (``full``: the
  complete counters, to replace the viewer's: the first delta of a new model, or a district gone).
  Nested dicts merge by key, lists of dicts by their ``id``.
* ``feed``: the room's activity rows not sent before, newest first, at most `wall.FEED_LENGTH`, as
  ``{id, kind, at, point_id}`` (the viewer knows the point's name from its tile).
* ``event``: the event's header facts, only when the event itself changed.
* ``removed``: points gone from the event (the viewer resyncs).

A national launch's whole wall shows a tile per province, not points: its room gets the group
view's delta (`national_root_delta`: ``view`` "groups", the changed provinces' tiles whole,
national counters and attention, applied by wall_groups.js); each touched province's room gets
point deltas as above.

Scaled out only the lease holder sends; a process that (re)takes the lease starts from fresh models
(`reset`), since the viewers may have received deltas from another sender meanwhile.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Event
from launch.services import wall, wall_groups

#: A feed row committed up to this long after a later-numbered one (PostgreSQL ids are taken at
#: insert, not commit) is still sent: each read starts this far back, and ids already sent are skipped.
FEED_SLACK_SECONDS = 1.0
#: Models kept per process (events under way at once); the least recently flushed goes first.
MAX_EVENTS = 32
_MISSING = object()
_EVENT = select(Event).where(Event.id == bindparam("event_id"))  # built once: read every flush


class EventModel:
    """Every tile of one event as its viewers have it, each room's counters as last sent, and the feed's mark."""

    def __init__(self, event_id: int, tiles: list[dict[str, Any]],
                 feed: list[tuple[int, str, datetime, int | None]]) -> None:
        self.event_id = event_id
        self.tiles: dict[int, dict[str, Any]] = {t["id"]: t for t in tiles}
        #: Points whose tile was read by the model but never sent by it: sent whole at their next change.
        self.fresh: set[int] = set(self.tiles)
        self.counters: dict[str, dict[str, Any]] = {}
        #: Feed rows sent next (the newest, at first: viewers skip those they show), and the read mark.
        self.feed_first = feed
        self.feed_floor = max((r[0] for r in feed), default=0)
        self.feed_top = self.feed_floor
        self.feed_sent: set[int] = {r[0] for r in feed}
        self.feed_marks: deque[tuple[float, int]] = deque()
        self.order: list[int] = []
        #: A national launch: the whole wall is a group view (`national_root_delta`), not points.
        self.national = False
        self.groups: dict[int, list[int]] = {}
        self.reorder()

    def reorder(self) -> None:
        """Wall order of the points, and the points of each group (district) in that order."""
        ordered = sorted(self.tiles.values(), key=lambda t: t["order"])
        self.order = [t["id"] for t in ordered]
        self.groups = {}
        for t in ordered:
            if t["district_id"] != wall.HOST_GROUP:
                self.groups.setdefault(t["district_id"], []).append(t["id"])

    def room_tiles(self, group: int | None) -> list[dict[str, Any]]:
        """The tiles a room shows, in wall order."""
        ids = self.order if group is None else self.groups.get(group, [])
        return [self.tiles[i] for i in ids]


class Models:
    """This process's models, one per event (bounded), behind one lock for the sending thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: OrderedDict[int, EventModel] = OrderedDict()

    def reset(self, event_id: int | None = None) -> None:
        """Forget one event's model (or all): the next flush starts from a fresh read."""
        with self.lock:
            if event_id is None:
                self.events.clear()
            else:
                self.events.pop(event_id, None)


def models(app: Flask) -> Models:
    """The app's models (created on first use)."""
    found = app.extensions.get("wall_models")
    if found is None:
        found = app.extensions.setdefault("wall_models", Models())
    return found


def diff_values(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """What changed from `old` to `new`, as values; None when a key or a listed item was removed.

    Nested dicts are diffed by key, lists of dicts by their ``id`` (a changed item: its id and changed
    keys; a new item: whole); any other value is sent whole when it differs.
    """
    if any(k not in new for k in old):
        return None
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if before == value:
            continue
        if isinstance(value, dict) and isinstance(before, dict):
            sub = diff_values(before, value)
            if sub is None:
                return None
            out[key] = sub
        elif _keyed(value) and _keyed(before):
            items = _diff_items(before, value)
            if items is None:
                return None
            out[key] = items
        else:
            out[key] = value
    return out


def merge_values(into: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    """Apply a `diff_values` result to `into` (in place, returned), as wall.js's mergeValues does."""
    for key, value in diff.items():
        current = into.get(key)
        if isinstance(value, list) and isinstance(current, list) and _keyed(value) and _keyed(current):
            by_id = {x["id"]: x for x in current}
            for item in value:
                if item["id"] in by_id:
                    merge_values(by_id[item["id"]], item)
                else:
                    current.append(item)
        elif isinstance(value, dict) and isinstance(current, dict):
            merge_values(current, value)
        else:
            into[key] = value
    return into


def _keyed(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, dict) and "id" in x for x in value)


def _diff_items(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    by_id = {x["id"]: x for x in old}
    if len({x["id"] for x in new} & by_id.keys()) != len(by_id):
        return None
    items = []
    for item in new:
        before = by_id.get(item["id"])
        if before is None:
            items.append(item)
        elif before != item:
            sub = diff_values(before, item)
            if sub is None:
                return None
            items.append({"id": item["id"], **sub})
    return items


def tile_change(old: dict[str, Any] | None, new: dict[str, Any], *, whole: bool) -> dict[str, Any]:
    """A tile's entry in a delta: its id and changed fields ({} when nothing changed)."""
    if whole or old is None:
        return {"id": new["id"], **wall.slim_tile(new)}
    changed = {k: v for k, v in new.items() if k != "order" and old.get(k, _MISSING) != v}
    return {"id": new["id"], **changed} if changed else {}


def build(app: Flask, event_id: int, point_ids: set[int | None], now: datetime | None = None) -> list[dict[str, Any]]:
    """One delta per wall room touched by a change of `point_ids` (None: the event itself), without
    `seq` (the publisher numbers them as it sends them), and the model brought up to date.

    Reads: the changed points' tiles (every tile when the event itself changed or the model is new)
    and the new feed rows. Call under the sender's lock (one flush at a time).
    """
    now = now or utcnow()
    store = models(app)
    event = db.session.execute(_EVENT, {"event_id": event_id}).scalar_one_or_none()
    if event is None:
        store.reset(event_id)
        return []
    event_level = None in point_ids
    wanted = {p for p in point_ids if p is not None}
    with store.lock:
        model = store.events.get(event_id)
    if model is None:
        model = EventModel(event_id, wall.load_tiles(event, now=now), wall.activity_newest(event_id))
        model.national = wall.is_national(event_id)
        read = dict(model.tiles) if event_level else {i: model.tiles[i] for i in wanted if i in model.tiles}
    elif event_level:
        model.national = wall.is_national(event_id)
        read = {t["id"]: t for t in wall.load_tiles(event, now=now)}
    else:
        read = {t["id"]: t for t in wall.load_tiles(event, wanted, now=now)} if wanted else {}
    gone = [i for i in (model.tiles if event_level else wanted) if i in model.tiles and i not in read]
    changes: dict[int, dict[str, Any]] = {}
    for pid, tile in read.items():
        entry = tile_change(model.tiles.get(pid), tile, whole=pid in model.fresh)
        if entry:
            changes[pid] = entry
    feed = _new_feed(model, event_id, read, now)
    deltas = _room_deltas(model, event, read, changes, feed, gone, event_level=event_level, now=now,
                          root=not model.national)
    if model.national:  # the national room shows provinces, not points: its delta is the group view's
        deltas.insert(0, national_root_delta(event, point_ids, now))
    with store.lock:
        store.events[event_id] = model
        store.events.move_to_end(event_id)
        while len(store.events) > MAX_EVENTS:
            store.events.popitem(last=False)
    return deltas


def _new_feed(model: EventModel, event_id: int, read: dict[int, dict[str, Any]],
              now: datetime) -> list[tuple[int, str, datetime, int | None]]:
    """Activity rows not sent yet, newest first; moves the model's feed mark (see FEED_SLACK_SECONDS)."""
    rows = [r for r in wall.activity_since(event_id, model.feed_floor) if r[0] not in model.feed_sent]
    rows += model.feed_first
    model.feed_first = []
    mono = time.monotonic()
    for r in rows:
        model.feed_sent.add(r[0])
        model.feed_top = max(model.feed_top, r[0])
    model.feed_marks.append((mono, model.feed_top))
    floor = model.feed_floor
    while model.feed_marks and model.feed_marks[0][0] <= mono - FEED_SLACK_SECONDS:
        floor = model.feed_marks.popleft()[1]
    if floor != model.feed_floor:
        model.feed_floor = floor
        model.feed_sent = {i for i in model.feed_sent if i > floor}
    rows.sort(key=lambda r: (r[2], r[0]), reverse=True)
    return rows


def _room_deltas(model: EventModel, event: Event, read: dict[int, dict[str, Any]], changes: dict[int, dict[str, Any]],
                 feed: list[tuple[int, str, datetime, int | None]], gone: list[int], *, event_level: bool,
                 now: datetime, root: bool = True) -> list[dict[str, Any]]:
    """Apply the read to the model and build each touched room's delta (see the module docstring);
    `root` False leaves the whole wall's room out (a national launch's: its delta is built apart)."""
    reorder = bool(gone) or any(pid not in model.tiles or model.tiles[pid]["order"] != t["order"]
                                for pid, t in read.items())
    old_group = {pid: model.tiles[pid]["district_id"] for pid in gone}
    model.tiles.update(read)
    for pid in gone:
        del model.tiles[pid]
    model.fresh -= set(changes)
    model.fresh -= set(gone)
    if reorder:
        model.reorder()
    group_of = {pid: t["district_id"] for pid, t in model.tiles.items()}
    group_of.update(old_group)
    entries = [({"id": r[0], "kind": r[1], "at": iso(r[2]), "point_id": r[3]}, group_of.get(r[3])) for r in feed]
    touched = {group_of[pid] for pid in (*changes, *gone)}
    touched |= {g for _e, g in entries if g is not None}
    if event_level:
        touched |= set(model.groups)
    touched.discard(wall.HOST_GROUP)
    touched.discard(None)
    info = wall.event_info(event, now) if event_level else None
    deltas = []
    for group in [None, *sorted(touched)] if root else sorted(touched):
        room = wall.wall_room(event.id, group)
        shown = model.room_tiles(group)
        counters = wall.counters(shown)
        before = model.counters.get(room)
        diff = diff_values(before, counters) if before is not None else None
        model.counters[room] = counters
        tiles = [changes[pid] for pid in (model.order if group is None else model.groups.get(group, []))
                 if pid in changes]
        room_feed = [e for e, g in entries if group is None or g == group][:wall.FEED_LENGTH]
        room_gone = [pid for pid in gone if group is None or old_group[pid] == group]
        if not (tiles or room_feed or room_gone or event_level or diff is None or diff):
            continue
        delta: dict[str, Any] = {"room": room, "tiles": tiles, "counters": counters if diff is None else diff,
                                 "feed": room_feed}
        if diff is None:
            delta["full"] = True
        if info is not None:
            delta["event"] = info
        if room_gone:
            delta["removed"] = room_gone
        deltas.append(delta)
    return deltas


def national_root_delta(event: Event, point_ids: set[int | None], now: datetime) -> dict[str, Any]:
    """A national launch's whole-wall delta (``view`` "groups"; without `seq`): the changed provinces'
    group tiles whole, the IOC's tile if it changed, the national counters, attention list and feed.

    Why apart from the point model: the national room never holds points, so it gets group tiles
    (what wall_groups.js applies) while each touched province's room gets the point deltas above.
    None in `point_ids`: the event itself changed (every province).
    """
    event_level = None in point_ids
    changed = {p for p in point_ids if p is not None}
    root = wall.group_view(event, now)
    touched = {g["id"] for g in root["groups"]} if event_level else wall_groups.groups_of_points(event.id, changed)
    root.update(type="delta", event_level=event_level,
                groups=[g for g in root["groups"] if g["id"] in touched],
                tiles=[wall.slim_tile(t) for t in root["tiles"] if event_level or t["id"] in changed])
    return root

"""The wall's counters and its "needs attention" list, computed from tiles (see services/wall.py).

Apart from the tile reading so that the wall, the national group view and the reports share them.
"""
from __future__ import annotations

from typing import Any


def counters(tiles: list[dict[str, Any]]) -> dict[str, Any]:
    """Checked in / invited (invited = non-host points), per level and per district; attendance
    (people expected: None while no point's figure is known)."""

    def blank() -> dict[str, int]:
        return {"invited": 0, "checked_in": 0}

    out: dict[str, Any] = {
        "invited": 0, "checked_in": 0, "live": 0, "in_call": 0, "signal_lost": 0, "problems": 0,
        "absent": 0, "attendees_present": 0, "attendees_expected": None, "attendee_checkins": 0,
        "levels": {},
        "districts": [],
    }
    districts: dict[int, dict[str, Any]] = {}
    for t in tiles:
        present = t["headcount"] if t["headcount"] is not None else t["attendees"]
        out["attendees_present"] += present
        if t["expected"] is not None:
            out["attendees_expected"] = (out["attendees_expected"] or 0) + t["expected"]
        out["attendee_checkins"] += t["attendees"]
        out["live"] += t["page_live"]
        out["in_call"] += t["in_call"]
        out["signal_lost"] += t["signal_lost"]
        out["problems"] += t["problem"] is not None
        if t["is_host"]:
            continue
        out["invited"] += 1
        out["checked_in"] += t["checked_in"]
        out["absent"] += t["absent"]
        level = out["levels"].setdefault(t["level"], blank())
        level["invited"] += 1
        level["checked_in"] += t["checked_in"]
        d = districts.setdefault(t["district_id"], {"id": t["district_id"], "name": t["district_name"],
                                                    "level": t.get("group_level", ""), **blank()})
        d["invited"] += 1
        d["checked_in"] += t["checked_in"]
    out["districts"] = list(districts.values())
    return out


def needs_attention(tiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points an operator should call: a problem, then signal lost, then not checked in."""
    rank = {"problem": 0, "signal_lost": 1}
    out = []
    for index, t in enumerate(tiles):
        if t["problem"] or t["signal_lost"] or (not t["checked_in"] and not t["is_host"]):
            out.append({
                "id": t["id"], "name": t["name"], "district_name": t["district_name"], "status": t["status"],
                "reason": t["status"] if t["status"] in rank else "not_checked_in", "problem": t["problem"],
                "host_name": t["host_name"], "host_phone": t["host_phone"], "last_seen_at": t["last_seen_at"],
                "order": (rank.get(t["status"], 2), index),
            })
    out.sort(key=lambda a: a["order"])
    for a in out:
        del a["order"]
    return out

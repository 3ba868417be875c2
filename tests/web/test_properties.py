"""Bad input, generated: Hypothesis throws Vietnamese text, combining marks, emoji, huge fields, wrong
JSON types (arrays, strings, null where objects are expected), numbers as strings, negative and huge
numbers, missing fields and repeats at every JSON endpoint, every form, every CSV import and the
query strings of the pages.

Every answer must be a 2xx/3xx or a clear 4xx with a message (JSON {ok: false, code, message} under
/api/), never a 5xx; and a refused request writes nothing: every row of every table but the audit log
(refusals are audited on purpose) is the same before and after.

The app and its data are built once per test function and the examples loop inside it. The JSON API
property runs on SQLite and PostgreSQL; the heavier form, CSV and query properties on SQLite.
"""
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import AttendeeCheckin, EventPoint
from launch.models.checkins import PROBLEM_KINDS
from tests.conftest import login, make_app
from tests.support.security import World, build_world, diff, snapshot

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                         HealthCheck.data_too_large]}

# --- strategies -----------------------------------------------------------------------------------

VIETNAMESE = ("ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
              "Nguyễn Thị Ánh Huyện Bình Sơn Xã Bình Thạnh")
COMBINING = "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b"  # decomposed tones and marks
EMOJI = ["🎤", "📷", "✅", "🇻🇳", "👨‍👩‍👧", "\u200d", "\ufeff"]
ODD = list(",;\"'\n\r\t<>&%/\\{}[]#?=+") + ["\x00", "\x7f", "0", "-1", " "]

# Any character an HTTP client can send: lone surrogates (category Cs) cannot be encoded as UTF-8 at
# all, so no browser or client sends them (drawing one only broke the test client, never the app).
pieces = st.sampled_from(list(VIETNAMESE) + list(COMBINING) + EMOJI + ODD) | st.characters(exclude_categories=("Cs",))
text = st.lists(pieces, max_size=40).map("".join)
huge = st.builds(lambda piece, n: piece * n, st.sampled_from(["đ", "a", "🎤", "Bình Sơn, ", "9"]),
                 st.integers(2_000, 120_000))
numberish = st.one_of(
    st.integers(-2**70, 2**70).map(str), st.sampled_from(["0", "-0", "1e400", "NaN", "inf", " 12 ", "١٢", "12.5",
                                                          "0x10", "1_000", "99999999999999999999"]))
field_text = st.one_of(text, numberish, huge)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), text, numberish, huge)
json_value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) |
                          st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def answer_of(resp) -> str:
    return resp.get_data(as_text=True)[:300]


def assert_clear_refusal_or_success(resp, where: str, before: dict | None = None) -> None:
    """Never a 5xx; a 4xx says why; a refusal wrote nothing."""
    assert resp.status_code < 500, f"{where}: {resp.status_code} {answer_of(resp)}"
    if resp.status_code >= 400:
        if resp.mimetype == "application/json":
            body = resp.get_json()
            assert body["ok"] is False and body["code"] and body["message"], (where, body)
        else:
            assert 'class="flash' in answer_of(resp) or "data-code=" in resp.get_data(as_text=True) or \
                "<h1" in resp.get_data(as_text=True), (where, answer_of(resp))
        if before is not None:
            assert diff(before, snapshot()) == {}, f"{where}: refused ({resp.status_code}) but wrote"


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_app(request, clock):
    """Like the `app` fixture but on SQLite only (the heavy properties)."""
    application = make_app("sqlite", request)
    ctx = application.app_context()
    ctx.push()
    yield application
    db.session.remove()
    db.drop_all()
    db.engine.dispose()
    ctx.pop()


def prepare(application) -> tuple[World, dict[str, Any]]:
    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user

    import_bundled_directory()
    users = {
        "operator": create_user("op", "test-pass-2023", "operator"),
        "viewer": create_user("viewer", "test-pass-2023", "viewer"),
        "district_host": create_user("dhost", "test-pass-2023", "host", unit_codes=("524",)),
        "commune_host": create_user("chost", "test-pass-2023", "host", unit_codes=("21046",)),
        "other_host": create_user("ohost", "test-pass-2023", "host", unit_codes=("522",)),
    }
    return build_world(users), users


def signed_in(application, username: str):
    client = application.test_client()
    assert login(client, username).status_code == 302
    return client


# --- the JSON API (SQLite and PostgreSQL) -----------------------------------------------------------

def api_fields(w: World) -> dict[str, dict[str, st.SearchStrategy]]:
    """Each API write, its fields, and values from plausible to absurd."""
    point_ids = st.sampled_from([w.point_id, w.other_point_id])
    return {
        "/api/v1/site-checkins": {
            "token": st.one_of(st.just(w.site_token), st.just(w.site_token[:-1] + "A"), st.just(w.site_token + "."),
                               json_value),
            "event_id": st.one_of(st.just(w.event_id), st.just(str(w.event_id)), json_value),
        },
        "/api/v1/points/{p}/attendee-checkins": {
            "client_id": st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{8,64}\Z"), json_value),
            "attendee_id": st.one_of(st.just(w.attendee_id), st.just(str(w.attendee_id)), json_value),
            "badge": st.one_of(st.just(w.badge), st.just(w.badge.replace("QNB1.", "")), json_value),
            "scanned_dt": st.one_of(st.datetimes().map(lambda d: d.isoformat()),
                                    st.sampled_from(["2023-07-28T00:20:00Z", "0001-01-01T00:00:00+14:00",
                                                     "9999-12-31T23:59:59-14:00", "2023-02-30T00:00:00"]),
                                    json_value),
        },
        "/api/v1/points/{p}/headcount": {"headcount": st.one_of(st.integers(-10, 200_000), numberish, json_value)},
        "/api/v1/points/{p}/problems": {"kind": st.one_of(st.sampled_from(PROBLEM_KINDS), json_value),
                                        "text": st.one_of(text, huge, json_value)},
        "/api/v1/points/{p}/connection-test": {"anything": json_value},
    }, point_ids


@settings(max_examples=70, **SETTINGS)
@given(data=st.data())
def test_json_api_answers_every_body_clearly_and_refusals_write_nothing(app, users, clock, data):
    """Runs on SQLite and PostgreSQL."""
    world = build_world(users) if not hasattr(app, "_hardening_world") else app._hardening_world
    app._hardening_world = world
    fields, point_ids = api_fields(world)
    path = data.draw(st.sampled_from(sorted(fields)), label="path")
    url = path.format(p=data.draw(point_ids, label="point"))
    role = data.draw(st.sampled_from(["chost", "dhost", "ohost", "viewer", "op"]), label="role")
    body = data.draw(st.one_of(
        st.fixed_dictionaries({}, optional=fields[path]),  # any subset of the fields, any values
        json_value,  # arrays, strings, null, numbers where an object is expected
    ), label="body")
    raw = data.draw(st.booleans(), label="raw")
    client = signed_in(app, role)
    before = snapshot()
    if raw:  # not even JSON: form-encoded junk or broken JSON
        resp = client.post(url, data=json.dumps(body, allow_nan=True)[:-1] or "{",
                           content_type="application/json")
    else:
        resp = client.post(url, json=body)
    assert resp.mimetype == "application/json"
    assert_clear_refusal_or_success(resp, f"{role} POST {url} {str(body)[:200]}", before)


def test_duplicate_submissions_are_recorded_once(app, users, clock):
    """The same scan sent twice is one check-in (replay); the same site check-in twice is 409."""
    world = build_world(users)
    host = signed_in(app, "chost")
    scan = {"client_id": "dup-scan-0001", "attendee_id": world.attendee_id, "scanned_dt": "2023-07-28T00:25:00Z"}
    first = host.post(f"/api/v1/points/{world.point_id}/attendee-checkins", json=scan)
    again = host.post(f"/api/v1/points/{world.point_id}/attendee-checkins", json=scan)
    assert first.status_code == 200 and first.get_json()["replay"] is False
    assert again.status_code == 200 and again.get_json()["replay"] is True
    assert again.get_json()["checkin_id"] == first.get_json()["checkin_id"]
    other_scan = host.post(f"/api/v1/points/{world.point_id}/attendee-checkins",
                           json={**scan, "client_id": "dup-scan-0002"})
    assert other_scan.status_code == 409 and other_scan.get_json()["code"] == "already_checked_in"
    assert db.session.scalar(select(func.count()).select_from(AttendeeCheckin).where(
        AttendeeCheckin.attendee_id == world.attendee_id)) == 1
    assert host.post("/api/v1/site-checkins", json={"token": world.site_token}).status_code == 200
    before = snapshot()
    twice = host.post(f"/c/{world.site_token}")
    assert twice.status_code == 302  # back to the host page, saying when and by whom
    assert host.post("/api/v1/site-checkins", json={"token": world.site_token}).get_json()["code"] == \
        "already_checked_in"
    assert diff(before, snapshot()) == {}
    db.session.expire_all()
    assert db.session.get(EventPoint, world.point_id).checkin_method == "qr"


# --- every form (SQLite) ----------------------------------------------------------------------------

def form_routes(w: World) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every form that changes something, with its field names (as the operator sends them)."""
    f = w.fmt
    event_fields = ("title", "description", "start", "end", "meeting_url", "meeting_id", "meeting_passcode",
                    "test_window_minutes", "absence_grace_minutes", "reminder_offsets", "agenda", "host_unit_id",
                    "invite_mode", "invite_districts", "invite_levels", "invite_units", "publish")
    campaign_fields = ("template", "name", "description", "date_mode", "anchor_event_id", "anchor_days", "start",
                       "end", "rhythm", "cutoff", "escalation_minutes", "reporting_level", "district_ids",
                       "metric-0-key", "metric-0-label", "metric-0-rule", "metric-0-value", "metric-1-label",
                       "metric-1-rule", "metric-1-value")
    channel_fields = ("kind", "name", "url", "secret", "clear_secret", "host", "port", "sender", "starttls",
                      "username", "password", "is_enabled")
    return {
        "login": ("/login", ("username", "password", "remember")),
        "event_new": ("/events/new", event_fields),
        "event_edit": (f("/events/{event_id}/edit"), event_fields),
        "event_points": (f("/events/{event_id}/points"), (
            f"expected_attendance-{w.point_id}", f"vc_endpoint-{w.point_id}", "expected_attendance-99999999999",
            "vc_endpoint-0")),
        "event_state": (f("/events/{event_id}/state"), ("to", "reason")),
        "unit": (f("/directory/units/{unit_id}"), ("host_name", "host_phone", "host_email", "vc_endpoint",
                                                   "expected_attendance", "notes")),
        "headcount": (f("/c/points/{point_id}/headcount"), ("headcount",)),
        "problem": (f("/c/points/{point_id}/problem"), ("kind", "text")),
        "manual": (f("/c/events/{event_id}/points/{other_point_id}/manual"), ("reason",)),
        "api_token": ("/c/api-tokens", ("name",)),
        "notice_read": ("/notices/read", ("notice_id",)),
        "channel_new": ("/notices/channels", channel_fields),
        "channel_edit": (f("/notices/channels/{channel_id}"), channel_fields),
        "campaign_new": ("/campaigns/new", campaign_fields),
        "campaign_edit": (f("/campaigns/{campaign_id}/edit"), campaign_fields),
        "targets": (f("/campaigns/{campaign_id}/targets"), (f"t-{w.unit_id}-1", f"t-{w.unit_id}-2", "t-1-x",
                                                            "t-99999999999-1")),
        "report": (f("/campaigns/{campaign_id}/report"), ("unit", "period", "note", "m-1", "m-2", "m-3")),
        "team_new": ("/campaigns/teams/new", ("unit_id", "level", "name", "members")),
        "team_edit": (f("/campaigns/teams/{team_id}/edit"), ("unit_id", "level", "name", "members")),
    }


def plausible(w: World, name: str) -> st.SearchStrategy:
    """Values a real user might type into field `name`, mixed with the absurd."""
    per_field = {
        "start": st.sampled_from(["2023-07-28T08:00", "2023-07-28", "28/07/2023 08:00", "2023-13-40T25:61"]),
        "end": st.sampled_from(["2023-07-28T10:00", "2023-07-27T10:00", "9999-12-31T23:59"]),
        "host_unit_id": st.sampled_from([str(w.district_id), "1", "0", "-5", "99999999999"]),
        "invite_mode": st.sampled_from(["all", "keep", "districts", "levels", "units", "x"]),
        "invite_units": st.sampled_from(["524, 21046", "21046;522", "zzz", ""]),
        "to": st.sampled_from(["scheduled", "testing", "live", "ended", "cancelled", "draft", "x"]),
        "kind": st.sampled_from(["webhook", "email", "in_app", *PROBLEM_KINDS, "x"]),
        "url": st.sampled_from(["https://hooks.example.invalid/x", "javascript:alert(1)", "ftp://x", "http://"]),
        "level": st.sampled_from(["district", "commune", "village", "province", "Thôn"]),
        "unit_id": st.sampled_from([str(w.unit_id), str(w.district_id), "1", "99999999999", "-1"]),
        "unit": st.sampled_from([str(w.unit_id), str(w.district_id), "1", "99999999999", "-1"]),
        "period": st.sampled_from(["0", "1", "2", "-1", "99999999999", "x"]),
        "date_mode": st.sampled_from(["dates", "anchor", "x"]),
        "rhythm": st.sampled_from(["daily", "weekly", "once", "x"]),
        "reporting_level": st.sampled_from(["district", "commune", "x"]),
        "template": st.sampled_from(["seven_in_seven", "scratch", "x"]),
        "cutoff": st.sampled_from(["17:00", "25:99", "5pm"]),
        "district_ids": st.sampled_from([str(w.district_id), "1", "99999999999"]),
        "anchor_event_id": st.sampled_from([str(w.event_id), "99999999999", "-1"]),
        "notice_id": st.sampled_from([str(w.notice_id), "99999999999", "-1", "x"]),
        "port": st.sampled_from(["25", "0", "70000", "99999999999999999999"]),
    }
    return st.one_of(per_field.get(name, field_text), field_text) if name in per_field else field_text


def form_body(w: World, fields: tuple[str, ...]) -> st.SearchStrategy:
    known = {name: plausible(w, name) for name in fields}
    return st.tuples(st.fixed_dictionaries({}, optional=known),
                     st.dictionaries(st.lists(pieces, min_size=1, max_size=8).map("".join), field_text, max_size=2)) \
        .map(lambda pair: {**pair[1], **pair[0]})


@settings(max_examples=160, **SETTINGS)
@given(data=st.data())
def test_every_form_answers_clearly_and_refusals_write_nothing(sqlite_app, data):
    app = sqlite_app
    if not hasattr(app, "_hardening"):
        app._hardening = prepare(app)
    world, _users = app._hardening
    routes = form_routes(world)
    name = data.draw(st.sampled_from(sorted(routes)), label="form")
    url, fields = routes[name]
    body = data.draw(form_body(world, fields), label="body")
    role = "op" if name not in ("headcount", "problem", "report") else data.draw(
        st.sampled_from(["op", "chost", "dhost"]), label="role")
    client = signed_in(app, role) if name != "login" else app.test_client()
    before = snapshot()
    resp = client.post(url, data=body)
    assert_clear_refusal_or_success(resp, f"{role} POST {url} {str(body)[:300]}", before)


# --- the CSV imports (SQLite) ---------------------------------------------------------------------

IMPORTS = {
    "directory": ("/directory/import", ("code", "name", "level", "division_type", "parent_code", "host_name",
                                        "host_phone", "expected_attendance")),
    "roster": ("/c/events/{event_id}/roster", ("name", "unit", "position", "phone")),
    "teams": ("/campaigns/teams/import", ("unit_code", "level", "name", "members")),
}
cell = st.one_of(st.sampled_from(["524", "21046", "522", "51", "district", "commune", "village", "huyện", "xã",
                                  "Xã Bình Thạnh", "Nguyễn Văn An", "12", "-3", ""]), field_text)


def csv_body(columns: tuple[str, ...]) -> st.SearchStrategy:
    header = st.lists(st.sampled_from(columns + ("Mã", "x", "")), min_size=0, max_size=len(columns) + 1) | \
        st.just(list(columns))
    rows = st.lists(st.lists(cell, max_size=len(columns) + 2), max_size=6)

    def render(parts) -> bytes:
        head, lines, encoding, bom = parts
        out = io.StringIO()
        import csv

        writer = csv.writer(out)
        writer.writerow(head)
        writer.writerows(lines)
        data = out.getvalue()
        encoded = data.encode(encoding, errors="replace")
        return (b"\xef\xbb\xbf" if bom else b"") + encoded

    rendered = st.tuples(header, rows, st.sampled_from(["utf-8", "utf-16", "cp1258", "latin-1"]), st.booleans()) \
        .map(render)
    return st.one_of(rendered, st.binary(max_size=300), huge.map(lambda s: s.encode()))


@settings(max_examples=45, **SETTINGS)
@given(data=st.data())
def test_csv_imports_refuse_whole_or_apply_whole(sqlite_app, data):
    app = sqlite_app
    if not hasattr(app, "_hardening"):
        app._hardening = prepare(app)
    world, _users = app._hardening
    kind = data.draw(st.sampled_from(sorted(IMPORTS)), label="import")
    url, columns = IMPORTS[kind]
    body = data.draw(csv_body(columns), label="csv")
    client = signed_in(app, "op")
    before = snapshot()
    resp = client.post(world.fmt(url), data={"file": (io.BytesIO(body), "bad name ✅.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code < 500, (kind, body[:200], answer_of(resp))
    if resp.status_code >= 400 or 'class="flash flash-error"' in html:
        assert diff(before, snapshot()) == {}, (kind, body[:200])
    else:
        assert 'class="flash flash-success"' in html, (kind, body[:200], answer_of(resp))


# --- query strings of the pages (SQLite) ----------------------------------------------------------

def get_routes(w: World) -> list[tuple[str, tuple[str, ...]]]:
    f = w.fmt
    return [
        ("/directory/", ("q", "level", "page")),
        ("/events/", ("state", "when")),
        ("/events/calendar", ("month",)),
        ("/notices/", ("page",)),
        ("/notices/log", ("status", "kind", "event_id", "page")),
        ("/admin/audit", ("action", "page")),
        ("/campaigns/", ("page",)),
        ("/campaigns/new", ("template",)),
        (f("/campaigns/{campaign_id}"), ("district", "show", "page")),
        (f("/campaigns/{campaign_id}/data.json"), ("district", "show", "page")),
        (f("/campaigns/{campaign_id}/report"), ("unit", "period")),
        (f("/campaigns/{campaign_id}/targets"), ("page",)),
        (f("/campaigns/{campaign_id}/export.csv"), ("kind",)),
        ("/campaigns/teams", ("district", "page")),
        ("/campaigns/teams/new", ("unit",)),
        (f("/wall/{event_id}"), ("mode",)),
        (f("/wall/{event_id}/snapshot.json"), ("district",)),
        (f("/wall/{event_id}/report"), ("district",)),
        (f("/wall/{event_id}/report.csv"), ("district",)),
        (f("/wall/{event_id}/timeline.json"), ("district",)),
        (f("/c/events/{event_id}/badges"), ("unit",)),
        (f("/api/v1/events/{event_id}/attendees"), ("q",)),
        ("/login", ("next",)),
        ("/lang/en", ("next",)),
    ]


@settings(max_examples=120, **SETTINGS)
@given(data=st.data())
def test_page_query_strings_never_break_a_page(sqlite_app, data):
    app = sqlite_app
    if not hasattr(app, "_hardening"):
        app._hardening = prepare(app)
    world, _users = app._hardening
    path, params = data.draw(st.sampled_from(get_routes(world)), label="page")
    query = data.draw(st.fixed_dictionaries({}, optional={p: st.one_of(field_text, numberish) for p in params}),
                      label="query")
    role = data.draw(st.sampled_from(["op", "viewer", "dhost"]), label="role")
    resp = signed_in(app, role).get(path, query_string=query)
    assert_clear_refusal_or_success(resp, f"{role} GET {path} {str(query)[:300]}")


@settings(max_examples=60, **SETTINGS)
@given(token=st.one_of(text, huge.map(lambda s: s[:5000]), st.from_regex(r"\A[A-Za-z0-9_.-]{1,200}\Z")),
       point=st.one_of(st.integers(-5, 2**40), st.sampled_from(["99999999999999999999999", "0", "x"])))
def test_qr_addresses_and_ids_in_paths_never_break(sqlite_app, token, point):
    """Whatever a phone camera opens under /c/, and any id in a path: a clear answer, nothing written."""
    app = sqlite_app
    if not hasattr(app, "_hardening"):
        app._hardening = prepare(app)
    client = signed_in(app, "chost")
    before = snapshot()
    for resp in (client.get("/c/" + token.replace("/", "_").replace("?", "_").replace("#", "_")),
                 client.post("/c/" + token.replace("/", "_").replace("?", "_").replace("#", "_")),
                 client.get(f"/c/points/{point}"), client.get(f"/api/v1/points/{point}"),
                 client.post(f"/api/v1/points/{point}/headcount", json={"headcount": 3})):
        if resp.status_code >= 400:
            assert_clear_refusal_or_success(resp, f"{resp.request.path[:80]}")
        assert resp.status_code < 500, (token[:80], point, resp.status_code)
    if diff(before, snapshot()) != {}:  # only a real token (never generated here) could write
        pytest.fail(f"wrote for token {token[:80]!r} / point {point!r}")

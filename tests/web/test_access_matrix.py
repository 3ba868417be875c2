"""Who may do what: EVERY route of the app (from app.url_map) x every role, and every Socket.IO event x
every role.

Roles: anonymous; viewer; the host of the point (Xã Bình Thạnh, 21046); the host of another point
(Thành phố Quảng Ngãi, 522); the district host (Huyện Bình Sơn, 524, over its commune 21046); the
operator. Each route gets a concrete URL built from a prepared event, point, campaign, team, channel,
notice and API token (tests/support/security.py). Allowed means a 2xx/3xx answer that is not a
redirect to /login (or one of the route's listed content refusals, e.g. 409 already checked in);
refused means 401/403 (404 where the route hides what is not yours), or a redirect to /login for
anonymous pages, and a refused write changes no row.

A new route that the matrix does not classify fails `test_matrix_covers_every_route`, so the
matrix stays complete.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from launch.extensions import socketio
from launch.services import presence
from tests.conftest import login
from tests.support.security import World, diff, snapshot

ANON, VIEWER, HOST, OTHER, DISTRICT, OPERATOR = "anonymous", "viewer", "host", "other_host", "district_host", \
    "operator"
#: The roles, in the order the matrix runs them (the operator last: its writes delete and cancel).
ROLES = (ANON, VIEWER, OTHER, HOST, DISTRICT, OPERATOR)
#: User names of the `users` fixture's accounts (tests/conftest.py).
USER_OF = {VIEWER: "viewer", HOST: "chost", OTHER: "ohost", DISTRICT: "dhost", OPERATOR: "op"}

ALL = frozenset(ROLES)
SIGNED_IN = ALL - {ANON}
READERS = frozenset({VIEWER, OPERATOR})
OPERATORS = frozenset({OPERATOR})
ACTORS = frozenset({HOST, DISTRICT, OPERATOR})  # may act for Xã Bình Thạnh
POINT_READERS = ACTORS | {VIEWER}
BINH_SON_READERS = frozenset({VIEWER, OPERATOR, DISTRICT})  # the district wall of Bình Sơn
CAMPAIGN_READERS = frozenset({VIEWER, OPERATOR, HOST, DISTRICT})  # the campaign covers Bình Sơn's communes
CAMPAIGN_REPORTERS = frozenset({OPERATOR, HOST, DISTRICT})
NOBODY = frozenset()


@dataclass(frozen=True)
class Case:
    """One route + method: a concrete URL, what to send, who is allowed."""

    rule: str
    method: str
    url: str
    allowed: frozenset
    json: Any = None
    data: dict | None = None
    files: dict | None = None
    ok: frozenset = field(default_factory=frozenset)  # content refusals that still mean "access allowed"
    refused: frozenset = frozenset({401, 403})  # what a refusal looks like for this route


DIRECTORY_CSV = "code,name,level,division_type,parent_code\n524,Huyện Bình Sơn,district,huyện,51\n"
ROSTER_CSV = "name,unit,position\nLê Văn Cường,21046,Trưởng thôn\n"
TEAMS_CSV = "unit_code,level,name,members\n21046,village,Tổ thôn 2,3\n"


def cases(w: World) -> list[Case]:
    """The matrix, in the order it runs (writes that delete, cancel, revoke or sign out come last)."""
    f = w.fmt
    return [
        # --- public ---------------------------------------------------------------------------------
        Case("/healthz", "GET", "/healthz", ALL),
        Case("/static/<path:filename>", "GET", "/static/css/app.css", ALL),
        Case("/api/v1/openapi.json", "GET", "/api/v1/openapi.json", ALL),
        Case("/api/v1/docs", "GET", "/api/v1/docs", ALL),
        Case("/c/sw.js", "GET", "/c/sw.js", ALL),
        Case("/login", "GET", "/login", ALL),
        Case("/login", "POST", "/login", ALL, data={"username": "nobody", "password": "wrong-password"}),
        Case("/lang/<code>", "GET", "/lang/vi", ALL),
        # Zoom webhooks authenticate by signature only: no session opens them.
        Case("/wall/hooks/zoom", "POST", "/wall/hooks/zoom", NOBODY, json={"event": "meeting.started"},
             refused=frozenset({401})),
        # --- any signed-in user ---------------------------------------------------------------------
        Case("/", "GET", "/", SIGNED_IN),
        Case("/directory/", "GET", "/directory/?q=binh+son", SIGNED_IN),
        Case("/directory/tree", "GET", "/directory/tree", SIGNED_IN),
        Case("/events/", "GET", "/events/", SIGNED_IN),
        Case("/events/calendar", "GET", "/events/calendar?month=2023-7", SIGNED_IN),
        # Every host here has a point in the event, so every signed-in user sees it (scoped inside).
        Case("/events/<int:event_id>", "GET", f("/events/{event_id}"), SIGNED_IN),
        Case("/events/<int:event_id>/readiness.json", "GET", f("/events/{event_id}/readiness.json"), SIGNED_IN),
        Case("/events/<int:event_id>/readiness", "GET", f("/events/{event_id}/readiness"), SIGNED_IN),
        Case("/events/<int:event_id>/points", "GET", f("/events/{event_id}/points"), SIGNED_IN),
        Case("/notices/", "GET", "/notices/", SIGNED_IN),
        Case("/notices/read", "POST", "/notices/read", SIGNED_IN, data={}),
        Case("/c/", "GET", "/c/", SIGNED_IN),
        Case("/campaigns/", "GET", "/campaigns/", SIGNED_IN),
        Case("/campaigns/teams", "GET", f("/campaigns/teams?district={district_id}"), SIGNED_IN),
        Case("/campaigns/teams/export.csv", "GET", "/campaigns/teams/export.csv", SIGNED_IN),
        Case("/api/v1/events/<int:event_id>/attendees", "GET", f("/api/v1/events/{event_id}/attendees?q=binh"),
             SIGNED_IN),
        # The whole wall: readers; a host with a district is sent to that district's wall.
        Case("/wall/<int:event_id>", "GET", f("/wall/{event_id}"), SIGNED_IN - {HOST}),
        # --- readers (operators and viewers) --------------------------------------------------------
        Case("/wall/<int:event_id>/projector", "GET", f("/wall/{event_id}/projector"), READERS),
        Case("/wall/<int:event_id>/snapshot.json", "GET", f("/wall/{event_id}/snapshot.json"), READERS),
        Case("/wall/<int:event_id>/report", "GET", f("/wall/{event_id}/report"), READERS),
        Case("/wall/<int:event_id>/report.csv", "GET", f("/wall/{event_id}/report.csv"), READERS),
        Case("/wall/<int:event_id>/report.xlsx", "GET", f("/wall/{event_id}/report.xlsx"), READERS),
        Case("/wall/<int:event_id>/timeline.json", "GET", f("/wall/{event_id}/timeline.json"), READERS),
        Case("/wall/<int:event_id>/participants", "GET", f("/wall/{event_id}/participants"), READERS),
        # No participant waits in the prepared world: the operator is let through to a 404.
        Case("/wall/<int:event_id>/participants/<int:participant_id>/assign", "POST",
             f("/wall/{event_id}/participants/999/assign"), OPERATORS, data={"point_id": "1"}, ok=frozenset({404})),
        Case("/c/events/<int:event_id>", "GET", f("/c/events/{event_id}"), READERS),
        # --- Bình Sơn's district wall: readers and its district host ----------------------------------
        Case("/wall/<int:event_id>/district/<int:district_id>", "GET",
             f("/wall/{event_id}/district/{district_id}"), BINH_SON_READERS),
        Case("/wall/<int:event_id>/district/<int:district_id>/projector", "GET",
             f("/wall/{event_id}/district/{district_id}/projector"), BINH_SON_READERS),
        # --- the point's private details: readers and whoever acts for it ---------------------------
        Case("/directory/units/<int:unit_id>", "GET", f("/directory/units/{unit_id}"), POINT_READERS),
        Case("/api/v1/points/<int:point_id>", "GET", f("/api/v1/points/{point_id}"), POINT_READERS),
        Case("/api/v1/points/<int:point_id>/roster", "GET", f("/api/v1/points/{point_id}/roster"), POINT_READERS),
        # --- acting for the point: its host, the district host, the operator -------------------------
        Case("/c/<token>", "GET", f("/c/{site_token}"), ACTORS),
        Case("/c/points/<int:point_id>", "GET", f("/c/points/{point_id}"), ACTORS),
        Case("/c/points/<int:point_id>/scan", "GET", f("/c/points/{point_id}/scan"), ACTORS),
        Case("/c/<token>", "POST", f("/c/{site_token}"), ACTORS),
        Case("/c/points/<int:point_id>/headcount", "POST", f("/c/points/{point_id}/headcount"), ACTORS,
             data={"headcount": "40"}),
        Case("/c/points/<int:point_id>/connection-test", "POST", f("/c/points/{point_id}/connection-test"), ACTORS),
        Case("/c/points/<int:point_id>/problem", "POST", f("/c/points/{point_id}/problem"), ACTORS,
             data={"kind": "no_audio"}),
        Case("/api/v1/site-checkins", "POST", "/api/v1/site-checkins", ACTORS, json={"token": w.site_token},
             ok=frozenset({409})),  # already checked in by the one before
        Case("/api/v1/points/<int:point_id>/attendee-checkins", "POST",
             f("/api/v1/points/{point_id}/attendee-checkins"), ACTORS,
             json={"client_id": "matrix-scan-0001", "attendee_id": w.attendee_id}),
        Case("/api/v1/points/<int:point_id>/headcount", "POST", f("/api/v1/points/{point_id}/headcount"), ACTORS,
             json={"headcount": 41}),
        Case("/api/v1/points/<int:point_id>/connection-test", "POST",
             f("/api/v1/points/{point_id}/connection-test"), ACTORS, json={}),
        Case("/api/v1/points/<int:point_id>/problems", "POST", f("/api/v1/points/{point_id}/problems"), ACTORS,
             json={"kind": "other", "text": "Mất tiếng 🎤"}),
        # Its hosts keep their contact and room up to date (operators edit every detail).
        Case("/directory/units/<int:unit_id>", "POST", f("/directory/units/{unit_id}"), ACTORS,
             data={"host_name": "Nguyễn Thị Ánh", "host_phone": "0912 000 111", "expected_attendance": "30"}),
        # --- campaigns: Bình Sơn's communes report ---------------------------------------------------
        Case("/campaigns/<int:campaign_id>", "GET", f("/campaigns/{campaign_id}"), CAMPAIGN_READERS),
        Case("/campaigns/<int:campaign_id>/data.json", "GET", f("/campaigns/{campaign_id}/data.json"),
             CAMPAIGN_READERS),
        Case("/campaigns/<int:campaign_id>/history", "GET", f("/campaigns/{campaign_id}/history"), CAMPAIGN_READERS),
        Case("/campaigns/<int:campaign_id>/export.<fmt>", "GET", f("/campaigns/{campaign_id}/export.csv"),
             CAMPAIGN_READERS),
        Case("/campaigns/<int:campaign_id>/report", "GET", f("/campaigns/{campaign_id}/report?unit={unit_id}"),
             CAMPAIGN_REPORTERS),
        # The campaign has not started (periods from 5 Aug): a report is refused by content (400), not access.
        Case("/campaigns/<int:campaign_id>/report", "POST", f("/campaigns/{campaign_id}/report"), CAMPAIGN_REPORTERS,
             data={"unit": str(w.unit_id), "period": "0"}, ok=frozenset({400})),
        # --- hosts and operators: personal API tokens ------------------------------------------------
        Case("/c/api-tokens", "GET", "/c/api-tokens", SIGNED_IN - {VIEWER}),
        Case("/c/api-tokens", "POST", "/c/api-tokens", SIGNED_IN - {VIEWER}, data={"name": "matrix"}),
        # --- operators only --------------------------------------------------------------------------
        Case("/admin/audit", "GET", "/admin/audit", READERS),
        Case("/admin/users", "GET", "/admin/users?q=binh&role=host&state=never", OPERATORS),
        Case("/admin/users/new", "GET", "/admin/users/new", OPERATORS),
        Case("/admin/users/new", "POST", "/admin/users/new", OPERATORS,
             data={"username": "matrix", "display_name": "Ma Trận", "role": "viewer"}),
        Case("/admin/users/<int:user_id>", "GET", f("/admin/users/{account_id}"), OPERATORS),
        Case("/admin/users/<int:user_id>", "POST", f("/admin/users/{account_id}"), OPERATORS,
             data={"display_name": "Người phụ trách TP", "role": "host", "units": "522", "email": "tp@example.vn"}),
        Case("/admin/events/<int:event_id>/onboarding", "GET", f("/admin/events/{event_id}/onboarding"), OPERATORS),
        Case("/admin/events/<int:event_id>/onboarding", "POST", f("/admin/events/{event_id}/onboarding"),
             OPERATORS),
        Case("/directory/import", "GET", "/directory/import", OPERATORS),
        Case("/directory/import", "POST", "/directory/import", OPERATORS,
             files={"file": (DIRECTORY_CSV.encode(), "units.csv")}),
        Case("/directory/import/map", "POST", "/directory/import/map", OPERATORS, data={"province": "51"}),
        Case("/events/new", "GET", "/events/new", OPERATORS),
        Case("/events/new", "POST", "/events/new", OPERATORS, data={"title": ""}, ok=frozenset({400})),
        Case("/events/<int:event_id>/edit", "GET", f("/events/{event_id}/edit"), OPERATORS),
        Case("/events/<int:event_id>/edit", "POST", f("/events/{event_id}/edit"), OPERATORS, data={"title": ""},
             ok=frozenset({400})),
        Case("/events/<int:event_id>/points", "POST", f("/events/{event_id}/points"), OPERATORS,
             data={f"expected_attendance-{w.point_id}": "35"}),
        Case("/c/events/<int:event_id>/qr-sheet", "GET", f("/c/events/{event_id}/qr-sheet"), OPERATORS),
        Case("/c/events/<int:event_id>/points/<int:point_id>/qr.<any(png, svg):kind>", "GET",
             f("/c/events/{event_id}/points/{point_id}/qr.png"), OPERATORS),
        Case("/c/events/<int:event_id>/points/<int:point_id>/manual", "GET",
             f("/c/events/{event_id}/points/{other_point_id}/manual"), OPERATORS),
        Case("/c/events/<int:event_id>/points/<int:point_id>/manual", "POST",
             f("/c/events/{event_id}/points/{other_point_id}/manual"), OPERATORS,
             data={"reason": "Xác nhận qua điện thoại"}),
        Case("/c/events/<int:event_id>/roster", "GET", f("/c/events/{event_id}/roster"), OPERATORS),
        Case("/c/events/<int:event_id>/roster", "POST", f("/c/events/{event_id}/roster"), OPERATORS,
             files={"file": (ROSTER_CSV.encode(), "roster.csv")}),
        Case("/c/events/<int:event_id>/badges", "GET", f("/c/events/{event_id}/badges"), OPERATORS),
        Case("/c/events/<int:event_id>/attendees/<int:attendee_id>/reissue-badge", "POST",
             f("/c/events/{event_id}/attendees/{attendee_id}/reissue-badge"), OPERATORS),
        Case("/campaigns/new", "GET", "/campaigns/new?template=seven_in_seven", OPERATORS),
        Case("/campaigns/new", "POST", "/campaigns/new", OPERATORS, data={"name": ""}, ok=frozenset({400})),
        Case("/campaigns/<int:campaign_id>/edit", "GET", f("/campaigns/{campaign_id}/edit"), OPERATORS),
        Case("/campaigns/<int:campaign_id>/edit", "POST", f("/campaigns/{campaign_id}/edit"), OPERATORS,
             data={"name": ""}, ok=frozenset({400})),
        Case("/campaigns/<int:campaign_id>/targets", "GET", f("/campaigns/{campaign_id}/targets"), READERS),
        Case("/campaigns/<int:campaign_id>/targets", "POST", f("/campaigns/{campaign_id}/targets"), OPERATORS,
             data={}),
        Case("/campaigns/teams/new", "GET", "/campaigns/teams/new", OPERATORS),
        Case("/campaigns/teams/new", "POST", "/campaigns/teams/new", OPERATORS,
             data={"unit_id": str(w.unit_id), "level": "village", "name": "Tổ thôn 3", "members": "4"}),
        Case("/campaigns/teams/<int:team_id>/edit", "GET", f("/campaigns/teams/{team_id}/edit"), OPERATORS),
        Case("/campaigns/teams/<int:team_id>/edit", "POST", f("/campaigns/teams/{team_id}/edit"), OPERATORS,
             data={"unit_id": str(w.unit_id), "level": "village", "name": "Tổ thôn 4", "members": "11"}),
        Case("/campaigns/teams/import", "GET", "/campaigns/teams/import", OPERATORS),
        Case("/campaigns/teams/import", "POST", "/campaigns/teams/import", OPERATORS,
             files={"file": (TEAMS_CSV.encode(), "teams.csv")}),
        Case("/notices/log", "GET", "/notices/log", READERS),
        Case("/notices/log/<int:notice_id>/retry", "POST", f("/notices/log/{notice_id}/retry"), OPERATORS),
        Case("/notices/channels", "GET", "/notices/channels", OPERATORS),
        Case("/notices/channels", "POST", "/notices/channels", OPERATORS,
             data={"kind": "webhook", "name": "Zalo OA", "url": "https://hooks.example.invalid/zalo"}),
        Case("/notices/channels/<int:channel_id>", "GET", f("/notices/channels/{channel_id}"), OPERATORS),
        Case("/notices/channels/<int:channel_id>", "POST", f("/notices/channels/{channel_id}"), OPERATORS,
             data={"name": "IOC hook", "url": "https://hooks.example.invalid/y", "is_enabled": "1"}),
        Case("/events/<int:event_id>/state", "POST", f("/events/{event_id}/state"), OPERATORS,
             data={"to": "testing"}),
        # --- last: withdraw, revoke, delete, cancel ---------------------------------------------------
        Case("/admin/users/<int:user_id>/invite", "POST", f("/admin/users/{account_id}/invite"), OPERATORS),
        Case("/admin/users/<int:user_id>/reset", "POST", f("/admin/users/{account_id}/reset"), OPERATORS),
        Case("/admin/users/<int:user_id>/disable", "POST", f("/admin/users/{account_id}/disable"), OPERATORS),
        Case("/admin/users/<int:user_id>/enable", "POST", f("/admin/users/{account_id}/enable"), OPERATORS),
        # An invitation link is public: whoever holds it sets the password once (the first to post
        # spends it; later posts are told it was used, 410). Anonymous, it signs in as the invited host.
        Case("/welcome/<token>", "GET", f("/welcome/{invite_secret}"), ALL, ok=frozenset({410})),
        Case("/welcome/<token>", "POST", f("/welcome/{invite_secret}"), ALL, ok=frozenset({410}),
             data={"password": "mat-khau-moi-2023", "confirm": "mat-khau-moi-2023"}),
        Case("/c/events/<int:event_id>/points/<int:point_id>/revoke", "POST",
             f("/c/events/{event_id}/points/{other_point_id}/revoke"), OPERATORS),
        # A token is its owner's (operators may revoke any); others are told it does not exist.
        Case("/c/api-tokens/<int:token_id>/revoke", "POST", f("/c/api-tokens/{token_id}/revoke"),
             frozenset({HOST, OPERATOR}), refused=frozenset({401, 403, 404})),
        Case("/notices/channels/<int:channel_id>/delete", "POST", f("/notices/channels/{channel_id}/delete"),
             OPERATORS),
        Case("/campaigns/teams/<int:team_id>/delete", "POST", f("/campaigns/teams/{team_id}/delete"), OPERATORS),
        Case("/campaigns/<int:campaign_id>/cancel", "POST", f("/campaigns/{campaign_id}/cancel"), OPERATORS),
        Case("/logout", "POST", "/logout", ALL),
    ]


def route_keys(app) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def client_for(app, role: str):
    client = app.test_client()
    if role != ANON:
        assert login(client, USER_OF[role]).status_code == 302
    return client


def send(client, case: Case):
    kwargs: dict[str, Any] = {"method": case.method}
    if case.json is not None:
        kwargs["json"] = case.json
    elif case.files is not None:
        kwargs["data"] = {k: (io.BytesIO(body), name) for k, (body, name) in case.files.items()}
        kwargs["content_type"] = "multipart/form-data"
    elif case.data is not None:
        kwargs["data"] = case.data
    return client.open(case.url, **kwargs)


def is_login_redirect(resp) -> bool:
    return resp.status_code in (301, 302, 303) and "/login" in resp.headers.get("Location", "")


def test_matrix_covers_every_route(app, world):
    """A route added without a row here fails; a row for a route that is gone fails too."""
    listed = {(c.rule, c.method) for c in cases(world)}
    assert route_keys(app) - listed == set(), "classify these routes in tests/web/test_access_matrix.py"
    assert listed - route_keys(app) == set(), "these rows name routes that no longer exist"


def test_every_route_by_role(app, world, clock):
    """Each role, each route: allowed where it should be, refused (nothing written) everywhere else."""
    problems: list[str] = []
    for role in ROLES:
        client = client_for(app, role)
        for case in cases(world):
            writes = case.method != "GET"
            before = snapshot() if writes and role not in case.allowed else None
            resp = send(client, case)
            status = resp.status_code
            where = f"{role:13} {case.method:4} {case.url} -> {status}"
            if status >= 500:
                problems.append(f"{where} (server error)")
            elif role in case.allowed:
                if is_login_redirect(resp) and case.rule != "/logout":
                    problems.append(f"{where} (sent to sign in)")
                elif status >= 400 and status not in case.ok:
                    problems.append(f"{where} (refused, should be allowed): {resp.get_data(as_text=True)[:160]}")
            else:
                refused = status in case.refused or (role == ANON and is_login_redirect(resp))
                if not refused:
                    problems.append(f"{where} (should be refused)")
                if before is not None and (changed := diff(before, snapshot())):
                    problems.append(f"{where} (refused but wrote {changed})")
    assert problems == [], "\n".join(problems)


def test_anonymous_api_answers_401_json_pages_redirect_to_login(app, world, clock):
    anon = app.test_client()
    for case in cases(world):
        if ANON in case.allowed or case.rule == "/wall/hooks/zoom":
            continue
        resp = send(anon, case)
        if case.rule.startswith("/api/"):
            assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized", case.url
        else:
            assert is_login_redirect(resp), (case.url, resp.status_code)


def test_host_cannot_act_for_or_read_a_unit_outside_their_scope(app, world, clock, users):
    """The commune host against Quảng Ngãi city's point and unit, through pages and the API."""
    host = client_for(app, HOST)
    from launch.extensions import db
    from launch.models import EventPoint
    from launch.services import tokens

    other = db.session.get(EventPoint, world.other_point_id)
    other_token = tokens.site_token(other)
    before = snapshot()
    refusals = [
        host.get(f"/c/{other_token}"), host.post(f"/c/{other_token}"),
        host.get(f"/c/points/{other.id}"), host.get(f"/c/points/{other.id}/scan"),
        host.post(f"/c/points/{other.id}/headcount", data={"headcount": "3"}),
        host.post(f"/c/points/{other.id}/connection-test"),
        host.post(f"/c/points/{other.id}/problem", data={"kind": "no_video"}),
        host.post("/api/v1/site-checkins", json={"token": other_token}),
        host.post(f"/api/v1/points/{other.id}/attendee-checkins",
                  json={"client_id": "outside-scope-1", "attendee_id": world.attendee_id}),
        host.post(f"/api/v1/points/{other.id}/headcount", json={"headcount": 3}),
        host.post(f"/api/v1/points/{other.id}/connection-test", json={}),
        host.post(f"/api/v1/points/{other.id}/problems", json={"kind": "no_audio"}),
        host.get(f"/api/v1/points/{other.id}"), host.get(f"/api/v1/points/{other.id}/roster"),
        host.get(f"/directory/units/{world.other_district_id}"),
        host.get(f"/wall/{world.event_id}/district/{world.other_district_id}"),
        host.get(f"/wall/{world.event_id}/snapshot.json?district={world.other_district_id}"),
        host.get(f"/wall/{world.event_id}/report?district={world.other_district_id}"),
    ]
    assert [r.status_code for r in refusals] == [403] * len(refusals)
    assert diff(before, snapshot()) == {}
    # Nor does the directory list show the phone of a host outside their scope.
    db.session.rollback()
    from launch.models import Unit

    city = db.session.get(Unit, world.other_district_id)
    city.host_phone = "0255 3822 522"
    mine = db.session.get(Unit, world.unit_id)
    mine.host_phone = "0255 3851 046"
    db.session.commit()
    listing = host.get("/directory/?q=quang+ngai").get_data(as_text=True)
    assert "Thành phố Quảng Ngãi" in listing and "0255 3822 522" not in listing
    assert "0255 3851 046" in host.get("/directory/?q=binh+thanh").get_data(as_text=True)
    assert "0255 3822 522" in client_for(app, VIEWER).get("/directory/?q=quang+ngai").get_data(as_text=True)


# --- Socket.IO ------------------------------------------------------------------------------------

def sio(app, role: str, **kwargs):
    return socketio.test_client(app, flask_test_client=client_for(app, role), **kwargs)


def ack(client, event: str, data: Any) -> Any:
    return client.emit(event, data, callback=True)


def test_socketio_events_by_role(app, world, clock):
    """connect / join the wall / join Bình Sơn's wall / resync / heartbeat, for every role."""
    wall = {"event": world.event_id}
    district = {"event": world.event_id, "district": world.district_id}
    expected_wall = READERS
    expected_district = BINH_SON_READERS
    problems: list[str] = []
    for role in ROLES:
        client = sio(app, role)
        if role == ANON:
            if client.is_connected():
                problems.append("anonymous connected")
            continue
        if not client.is_connected():
            problems.append(f"{role} could not connect")
            continue
        for name, data, allowed in (("join", wall, expected_wall), ("join", district, expected_district),
                                    ("resync", wall, expected_wall), ("resync", district, expected_district)):
            client.get_received()
            answer = ack(client, name, data)
            snapshots = [m for m in client.get_received() if m["name"] == "wall_snapshot"]
            if (answer.get("ok") is True) != (role in allowed):
                problems.append(f"{role} {name} {data}: {answer}")
            if role not in allowed and snapshots:
                problems.append(f"{role} {name} {data}: got a snapshot while refused")
        # A signed-in user's connection is not a host page: its heartbeats are refused.
        if ack(client, "heartbeat", {}) != {"ok": False, "code": "forbidden"}:
            problems.append(f"{role} heartbeat on a user connection was accepted")
        # Joining on connect: refused joins refuse the connection.
        on_connect = sio(app, role, auth=district)
        if on_connect.is_connected() != (role in expected_district):
            problems.append(f"{role} connect with join {district}: connected={on_connect.is_connected()}")
        if on_connect.is_connected():
            on_connect.disconnect()
        client.disconnect()
    assert problems == [], "\n".join(problems)


def test_socketio_host_page_presence_by_role(app, world, clock):
    """A host page's connection (auth point + token, or a signed-in host of the point) heartbeats;
    nobody else can pose as the point."""
    from launch.extensions import db
    from launch.models import EventPoint

    point = db.session.get(EventPoint, world.point_id)
    from launch.models import User

    good = presence.presence_token(point, db.session.scalar(db.select(User).where(User.username == "chost")))
    problems: list[str] = []
    for role in ROLES:
        # Without the token: only a signed-in user who acts for the point.
        client = sio(app, role, auth={"point": world.point_id})
        if client.is_connected() != (role in ACTORS):
            problems.append(f"{role} connect as the point without token: {client.is_connected()}")
        if client.is_connected():
            if ack(client, "heartbeat", {}).get("ok") is not True:
                problems.append(f"{role} heartbeat refused")
            # A point connection may not watch walls.
            if ack(client, "join", {"event": world.event_id}).get("ok") is not False:
                problems.append(f"{role} point connection joined the wall")
            client.disconnect()
        # This point's token does not open another point: only who acts for that one gets in.
        forged = sio(app, role, auth={"point": world.other_point_id, "token": good})
        if forged.is_connected() != (role in {OTHER, OPERATOR}):
            problems.append(f"{role} connect as another point with this point's token: {forged.is_connected()}")
        if forged.is_connected():
            forged.disconnect()
    # The real token (the host page's data-token) works without a session.
    page = sio(app, ANON, auth={"point": world.point_id, "token": good})
    assert page.is_connected()
    assert ack(page, "heartbeat", {})["ok"] is True
    page.disconnect()
    assert problems == [], "\n".join(problems)

"""Trust, round two (issue 16): what an outside review found, each pinned by the request that showed it.

The secret key of the embedded default, sessions that really end, equal work for known and unknown
names, exports that cannot attack a spreadsheet, the four 500s, Socket.IO rights, the password policy,
no-store caching and the per-account rate limit.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

import config
from config import DEV_SECRET_KEY
from launch import create_app
from launch.clock import utcnow
from launch.extensions import db, socketio
from launch.models import PointProblem, Unit, User
from launch.services import api_tokens
from launch.services import users as user_svc
from launch.services.errors import DomainError
from tests.conftest import login, make_app
from tests.support.factories import make_event, point_of

ROOT = Path(__file__).resolve().parent.parent.parent
BINH_THANH, BINH_SON, TP = "21046", "524", "522"


def cookie_value(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


# --- 1. the embedded default's secret key, demo accounts --------------------------------------------------

def test_development_generates_its_own_key_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "instance" / "secret_key"
    first = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db",
                       SCHEDULER_ENABLED=False, SECRET_KEY_FILE=str(key_file))
    key = first.config["SECRET_KEY"]
    assert key != DEV_SECRET_KEY and len(key) >= 64
    assert key_file.read_text().strip() == key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    again = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db",
                       SCHEDULER_ENABLED=False, SECRET_KEY_FILE=str(key_file))
    assert again.config["SECRET_KEY"] == key  # sessions survive a restart
    other = config.instance_secret_key(tmp_path / "elsewhere" / "secret_key")
    assert other != key  # every installation has its own


def test_a_remember_cookie_forged_with_the_published_key_opens_nothing(tmp_path, monkeypatch):
    """The review's forgery: `1|HMAC-SHA512(dev key, "1")` opened the accounts page as the operator."""
    from flask_login.utils import encode_cookie

    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db", SCHEDULER_ENABLED=False,
                     SECRET_KEY_FILE=str(tmp_path / "secret_key"), WTF_CSRF_ENABLED=False)
    with app.app_context():
        db.create_all()
        operator = user_svc.create_user("ioc", "a-long-operator-phrase", "operator")
        client = app.test_client()
        for payload in ("1", operator.get_id()):  # old id form, and even knowing the generation
            client.set_cookie("remember_token", encode_cookie(payload, key=DEV_SECRET_KEY))
            resp = client.get("/admin/users")
            assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        db.session.remove()
        db.engine.dispose()


def test_served_beyond_loopback_the_published_key_is_refused():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.1.1"):
        assert config.is_loopback(host)
        config.check_serving(host, {"SECRET_KEY": DEV_SECRET_KEY})  # on this machine only: allowed
    for host in ("0.0.0.0", "192.168.1.20", "::", "launch.local"):
        assert not config.is_loopback(host)
        with pytest.raises(config.ConfigError, match="development key"):
            config.check_serving(host, {"SECRET_KEY": DEV_SECRET_KEY})
        config.check_serving(host, {"SECRET_KEY": "a-random-key-" + "x" * 40})


def test_python_app_py_on_the_lan_with_the_published_key_exits(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LAUNCH_CONFIG", "REDIS_URL")}
    env.update(HOST="0.0.0.0", PORT="1", SECRET_KEY=DEV_SECRET_KEY, DATABASE_URL=f"sqlite:///{tmp_path}/a.db",
               SCHEDULER_ENABLED="0")
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "development key" in done.stderr


def test_demo_data_is_refused_under_production(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s3cr3t-" + "k" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/prod.db")
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 1 and "demo_in_production" in result.output
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("database", ["sqlite"])
def test_beyond_loopback_demo_accounts_get_fresh_passwords_printed_once(app, directory, monkeypatch):
    from launch import demo

    # A first `make run` on loopback: the published passwords (fine on this machine only).
    for username, password, role, name, codes in demo.DEMO_ACCOUNTS:
        user_svc.create_user(username, password, role, display_name=name, unit_codes=codes)
    assert user_svc.authenticate("ioc", "ioc-demo-2023") is not None
    session_before = db.session.scalar(select(User).where(User.username == "ioc")).get_id()

    changed = demo.secure_demo_accounts()  # what `HOST=0.0.0.0 make run` does before serving
    assert [a.username for a in changed] == [a[0] for a in demo.DEMO_ACCOUNTS]
    published = {a[1] for a in demo.DEMO_ACCOUNTS}
    for account in changed:
        assert account.password not in published and len(account.password) >= 16
        assert user_svc.authenticate(account.username, account.password) is not None
    assert user_svc.authenticate("ioc", "ioc-demo-2023") is None
    assert db.session.scalar(select(User).where(User.username == "ioc")).get_id() != session_before
    assert demo.secure_demo_accounts() == []  # printed once: nothing to print the next time

    lines: list[str] = []
    demo.print_accounts(changed, lines.append)
    assert any(changed[0].password in line for line in lines) and "once" in lines[-1]


@pytest.mark.parametrize("database", ["sqlite"])
def test_demo_load_for_the_lan_never_uses_the_published_passwords(app, monkeypatch):
    from launch import demo

    # The events and campaigns are not the point.
    monkeypatch.setattr(demo.events, "seed_demo", lambda operator: None)
    monkeypatch.setattr(demo.campaigns, "seed_demo", lambda operator: None)
    monkeypatch.setenv("HOST", "0.0.0.0")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "ioc-demo-2023" not in result.output and "printed this once" in result.output
    assert user_svc.authenticate("ioc", "ioc-demo-2023") is None
    again = app.test_cli_runner().invoke(args=["demo", "load"])
    assert "unchanged" in again.output and "printed this once" not in again.output
    monkeypatch.setenv("HOST", "127.0.0.1")
    local = app.test_cli_runner().invoke(args=["demo", "load"])
    assert user_svc.authenticate("ioc", "ioc-demo-2023") is None and "ioc-demo-2023" not in local.output


# --- 2. signing out ends the session, everywhere ----------------------------------------------------------

def test_a_copied_session_and_remember_cookie_stop_working_after_sign_out(app, users):
    client = app.test_client()
    assert client.post("/login", data={"username": "op", "password": "test-pass-2023", "remember": "y"}
                       ).status_code == 302
    session_cookie, remember = cookie_value(client, "session"), cookie_value(client, "remember_token")
    assert client.get("/admin/users").status_code == 200
    assert client.post("/logout").status_code == 302

    thief = app.test_client()  # the cookies taken before the sign-out
    thief.set_cookie("session", session_cookie)
    assert thief.get("/admin/users").status_code == 302
    only_remember = app.test_client()
    only_remember.set_cookie("remember_token", remember)
    assert only_remember.get("/admin/users").status_code == 302

    again = app.test_client()
    login(again, "op")
    assert again.post("/login", data={"username": "op", "password": "test-pass-2023", "remember": "y"}
                      ).status_code == 302
    second = app.test_client()
    second.post("/login", data={"username": "op", "password": "test-pass-2023", "remember": "y"})
    assert cookie_value(second, "remember_token") != remember  # no longer the same value on every sign-in


def test_remember_cookie_lasts_two_weeks_not_a_year(app, users):
    resp = app.test_client().post("/login", data={"username": "op", "password": "test-pass-2023", "remember": "y"})
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert timedelta(days=13) < expires - datetime.now(UTC) <= timedelta(days=14)


def test_password_change_and_disable_end_every_session(app, users):
    host = app.test_client()
    login(host, "chost")
    assert host.get("/").status_code == 200
    user_svc.change_password(users["commune_host"], "a-new-long-phrase-2023")
    assert host.get("/").status_code == 302
    login(host, "chost", "a-new-long-phrase-2023")
    assert host.get("/").status_code == 200
    user_svc.set_enabled(users["commune_host"], False)
    assert host.get("/").status_code == 302
    assert login(host, "chost", "a-new-long-phrase-2023").status_code == 200  # refused: form shown again


def test_cli_changes_passwords_and_disables_accounts(app, users):
    runner = app.test_cli_runner()
    before = users["viewer"].get_id()
    weak = runner.invoke(args=["users", "set-password", "viewer", "--password", "12345678"])
    assert weak.exit_code == 1 and "weak_password" in weak.output
    done = runner.invoke(args=["users", "set-password", "viewer", "--password", "viewer-long-phrase-2023"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.get(User, users["viewer"].id).get_id() != before
    assert runner.invoke(args=["users", "disable", "viewer"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, users["viewer"].id).is_enabled is False
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code == 1


def test_sign_out_closes_the_users_open_sockets(app, users, as_user):
    event = make_event()
    http = as_user("operator")
    wall = socketio.test_client(app, flask_test_client=http)
    assert wall.emit("join", {"event": event.id}, callback=True)["ok"] is True
    other = socketio.test_client(app, flask_test_client=as_user("viewer"))
    http.post("/logout")
    assert not wall.is_connected()
    assert other.is_connected()  # another user's socket stays
    other.disconnect()


def test_a_socket_missed_by_the_close_loses_its_rights_at_its_next_event(app, users, as_user):
    """Scaled out with Redis down, a socket on another process may not be closed: it is refused anyway."""
    event = make_event()
    viewer = socketio.test_client(app, flask_test_client=as_user("viewer"))
    assert viewer.emit("join", {"event": event.id}, callback=True)["ok"] is True
    user = db.session.get(User, users["viewer"].id)
    user.session_token = "replaced-elsewhere"
    db.session.commit()
    assert viewer.emit("join", {"event": event.id}, callback=True) == {"ok": False, "code": "session_ended"}
    assert not viewer.is_connected()


def test_cookies_made_before_session_generations_are_refused(app, users):
    assert user_svc.user_for_session_id(str(users["operator"].id)) is None
    assert user_svc.user_for_session_id(users["operator"].get_id()) is not None
    assert user_svc.user_for_session_id(f"{users['operator'].id}:wrong") is None
    assert user_svc.user_for_session_id("x:y") is None and user_svc.user_for_session_id("99999999999:y") is None


# --- 3. user names cannot be told apart by the work a sign-in does ---------------------------------------

def test_every_sign_in_path_hashes_exactly_once(app, users, monkeypatch):
    import werkzeug.security

    real = werkzeug.security._hash_internal
    calls = {"n": 0}

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", counting)
    user_svc.set_enabled(users["other_host"], False)
    paths = {"unknown name": ("nobody", "whatever-pass"), "known, wrong password": ("op", "whatever-pass"),
             "known, right password": ("op", "test-pass-2023"), "disabled": ("ohost", "test-pass-2023")}
    counts = {}
    for label, (name, password) in paths.items():
        calls["n"] = 0
        user_svc.authenticate(name, password)
        counts[label] = calls["n"]
    assert counts == dict.fromkeys(paths, 1)


# --- 4. exports cannot attack a spreadsheet -----------------------------------------------------------------

EVIL = {"unit": "=HYPERLINK(\"http://evil.example\",\"x\")", "name": "+1+2", "by": "@SUM(A1:A9)",
        "team": "-2+3", "metric": "=cmd|' /C calc'!A0"}


def _rename_binh_thanh() -> None:
    unit = db.session.scalar(select(Unit).where(Unit.code == BINH_THANH))
    unit.name = EVIL["unit"]
    db.session.commit()


def test_report_exports_neutralise_formulas_and_write_real_times(app, users, as_user):
    from datetime import datetime

    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=40)
    _rename_binh_thanh()  # before the event: its points keep the names they were invited with
    event = make_event(state="live", start_dt=start)
    users["operator"].display_name = EVIL["by"]
    point = point_of(event, BINH_THANH)
    point.checked_in_dt, point.checkin_method, point.checked_in_by_id = start - timedelta(minutes=3), "qr", \
        users["operator"].id
    db.session.commit()
    operator = as_user("operator")

    text = operator.get(f"/wall/{event.id}/report.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    row = next(r for r in rows if r[0] == BINH_THANH)
    assert row[1] == "'" + EVIL["unit"] and row[6] == "'" + EVIL["by"]
    for cell in (c for r in rows for c in r):
        assert not cell.lstrip().startswith(("=", "+", "-", "@")), cell

    book = load_workbook(io.BytesIO(operator.get(f"/wall/{event.id}/report.xlsx").data))
    sheet = book.worksheets[0]
    line = next(i for i in range(2, sheet.max_row + 1) if sheet.cell(row=i, column=1).value == BINH_THANH)
    name, by, when = (sheet.cell(row=line, column=c) for c in (2, 7, 5))
    assert (name.data_type, name.value, name.quotePrefix) == ("s", EVIL["unit"], True)
    assert (by.data_type, by.value) == ("s", EVIL["by"])
    assert isinstance(when.value, datetime) and when.is_date
    local = (start - timedelta(minutes=3) + timedelta(hours=7)).replace(tzinfo=None)
    assert when.value == local  # local (Asia/Ho_Chi_Minh) wall-clock time
    assert not any(c.data_type == "f" for ws in book.worksheets for r in ws.iter_rows() for c in r)


def test_campaign_and_team_exports_neutralise_formulas(app, users, as_user):
    from datetime import datetime

    from launch.services import campaigns as svc
    from launch.services import teams as team_svc
    from tests.services.test_campaigns import BEFORE, TEAMS, campaign_data

    team_svc.import_teams(TEAMS + f"21046,village,{EVIL['team']},3\n")
    data = campaign_data()
    data["metrics"][1]["label"] = EVIL["metric"]
    campaign = svc.save_campaign(data, actor=users["operator"], now=BEFORE)
    _rename_binh_thanh()
    operator = as_user("operator")
    for kind in ("results", "status"):
        text = operator.get(f"/campaigns/{campaign.id}/export.csv?kind={kind}").get_data().decode("utf-8-sig")
        cells = [c for r in csv.reader(io.StringIO(text)) for c in r]
        assert "'" + EVIL["metric"] in cells
        assert "'" + EVIL["unit"] in cells
        assert not [c for c in cells if c.lstrip().startswith(("=", "+", "@"))]
        book = load_workbook(io.BytesIO(operator.get(f"/campaigns/{campaign.id}/export.xlsx?kind={kind}").data))
        sheet = book.worksheets[0]
        assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
        assert EVIL["metric"] in [c.value for c in sheet[1]]
        if kind == "status":
            cutoffs = [sheet.cell(row=i, column=2).value for i in range(2, sheet.max_row + 1)]
            assert cutoffs and all(isinstance(v, datetime) for v in cutoffs)

    exported = operator.get("/campaigns/teams/export.csv").get_data().decode("utf-8-sig")
    assert f"21046,village,'{EVIL['team']},3" in exported
    # Our own export imports back as it was typed, not with the quote.
    result = team_svc.import_teams(exported)
    assert result.created == 0
    assert EVIL["team"] in {t.name for t in db.session.scalars(select(team_svc.Team))}


def test_every_export_writer_goes_through_the_one_helper():
    """No csv.writer or Workbook outside launch/services/exports.py (the demo's team file is an input)."""
    offenders = []
    for path in (ROOT / "launch").rglob("*.py"):
        if path.name == "exports.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("Workbook(", "csv.writer(", "DictWriter("):
            if needle in text and not (needle == "csv.writer(" and "def demo_teams_csv" in text
                                       and text.count(needle) == 1):
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


# --- 6. four ways to a 500 ------------------------------------------------------------------------------

@pytest.fixture
def live_point(users):
    event = make_event(state="live", start_dt=utcnow() - timedelta(minutes=5))
    return point_of(event, BINH_THANH)


def test_lone_surrogate_and_deep_nesting_are_refused_not_500(app, users, live_point, as_user):
    host = as_user("commune_host")
    url = f"/api/v1/points/{live_point.id}/problems"
    surrogate = host.post(url, data='{"kind": "other", "text": "\\ud800 no sound"}',
                          content_type="application/json")
    assert surrogate.status_code == 400 and surrogate.json["code"] == "invalid_input"
    deep = host.post(url, data='{"kind": ' + "[" * 100_000 + "]" * 100_000 + "}", content_type="application/json")
    assert deep.status_code == 400 and deep.json["code"] == "invalid_input"
    nested = host.post(f"/api/v1/points/{live_point.id}/headcount",
                       data=json.dumps({"headcount": json.loads("[" * 20 + "1" + "]" * 20)}),
                       content_type="application/json")
    assert nested.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(PointProblem)) == 0
    ok = host.post(url, json={"kind": "other", "text": "Mất tiếng 🎤"})
    assert ok.status_code == 200


def test_cr_lf_or_backslash_in_next_never_breaks_the_redirect(app, users):
    for target in ("/%0d%0aSet-Cookie:%20x=1", "/events%0a", "/\\evil.example", "/%09/evil.example"):
        client = app.test_client()
        resp = client.post(f"/login?next={target}", data={"username": "op", "password": "test-pass-2023"})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", target
        lang = client.get(f"/lang/en?next={target}")
        assert lang.status_code == 302 and lang.headers["Location"] == "/", target


def test_zoom_times_out_of_range_and_nan_timestamps(app, users):
    from tests.web.test_meeting import SECRET, post, zoom_body

    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = SECRET
    event = make_event(state="live", start_dt=utcnow() - timedelta(minutes=5))
    event.meeting_id = "85671234567"
    point_of(event, BINH_THANH).meeting_name = "UBND xã Bình Thạnh"
    db.session.commit()
    client = app.test_client()
    for when in ("0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00", "0001-01-01T00:00:00Z"):
        for kind in ("meeting.participant_joined", "meeting.participant_left"):
            resp = post(client, zoom_body(kind, "UBND xã Bình Thạnh", when))
            assert resp.status_code == 200, (when, resp.data)
    db.session.expire_all()
    point = point_of(event, BINH_THANH)
    assert abs(point.call_joined_dt - utcnow()) < timedelta(hours=1)  # the arrival time stood in
    for stamp in ("nan", "inf", "-inf", "NaN"):
        assert post(client, zoom_body("meeting.participant_joined", "UBND xã Bình Thạnh", "2023-07-28T01:00:00Z"),
                    timestamp=stamp).status_code == 401


# --- 7. Socket.IO campaign rooms -------------------------------------------------------------------------

def test_a_host_joins_only_the_campaign_rooms_of_their_units(app, users, as_user):
    from launch.services import campaigns as svc
    from launch.services import teams as team_svc
    from tests.services.test_campaigns import BEFORE, TEAMS, campaign_data

    team_svc.import_teams(TEAMS)
    binh_son = svc.save_campaign(campaign_data(), actor=users["operator"], now=BEFORE)
    host = socketio.test_client(app, flask_test_client=as_user("other_host"))  # Quảng Ngãi city's host
    assert host.emit("join", {"room": f"campaign:{binh_son.id}"}, callback=True) == {"ok": False, "code": "forbidden"}
    mine = socketio.test_client(app, flask_test_client=as_user("commune_host"))
    assert mine.emit("join", {"room": f"campaign:{binh_son.id}"}, callback=True)["ok"] is True
    for c in (host, mine):
        c.disconnect()


# --- 9. password policy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("database", ["sqlite"])
@pytest.mark.parametrize("password", ["12345678", "1234567890", "password123", "Password2024!", "qwertyuiop",
                                      "aaaaaaaaaaaa", "matkhau123", "short"])
def test_weak_passwords_are_refused(app, directory, password):
    with pytest.raises(DomainError) as refused:
        user_svc.create_user("chost", password, "host", unit_codes=(BINH_THANH,))
    assert refused.value.code == "weak_password"
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("database", ["sqlite"])
def test_a_long_uncommon_phrase_is_accepted_and_the_user_name_is_not(app, directory):
    with pytest.raises(DomainError):
        user_svc.create_user("binhthanh-host", "binhthanh-host", "host", unit_codes=(BINH_THANH,))
    assert user_svc.create_user("chost", "lúa chín vàng Bình Thạnh", "host", unit_codes=(BINH_THANH,)).id


# --- 10. no-store ------------------------------------------------------------------------------------------

def test_signed_in_pages_answers_and_exports_are_never_stored(app, users, live_point, as_user):
    operator = as_user("operator")
    for path in ("/", "/admin/users", f"/wall/{live_point.event_id}/report.csv",
                 f"/api/v1/points/{live_point.id}"):
        resp = operator.get(path)
        assert resp.status_code == 200 and resp.headers.get("Cache-Control") == "no-store", path
    token = api_tokens.create_api_token(users["commune_host"], "scanner")[1]
    resp = app.test_client().get(f"/api/v1/points/{live_point.id}", headers={"Authorization": f"Bearer {token}"})
    assert resp.headers.get("Cache-Control") == "no-store"
    static = operator.get("/static/css/app.css")
    assert "no-store" not in (static.headers.get("Cache-Control") or "")
    static.close()


# --- 12. one rate-limit bucket per account, whatever the number of tokens ----------------------------------

def test_rate_limit_is_per_account_across_its_api_tokens(request):
    app = make_app("sqlite", request, RATELIMIT_ENABLED=True, CHECKIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        from launch.services.directory import import_bundled_directory

        import_bundled_directory()
        host = user_svc.create_user("chost", "test-pass-2023", "host", unit_codes=(BINH_THANH,))
        other = user_svc.create_user("dhost", "test-pass-2023", "host", unit_codes=(BINH_SON,))
        event = make_event(state="live", start_dt=utcnow() - timedelta(minutes=5))
        point_id = point_of(event, BINH_THANH).id
        secrets = [api_tokens.create_api_token(host, f"scanner {i}")[1] for i in range(4)]
        client = app.test_client()
        codes = [client.post(f"/api/v1/points/{point_id}/headcount", json={"headcount": 5 + i},
                             headers={"Authorization": f"Bearer {secret}"}).status_code
                 for i, secret in enumerate(secrets)]
        assert codes == [200, 200, 200, 429]
        district = api_tokens.create_api_token(other, "district")[1]
        assert client.post(f"/api/v1/points/{point_id}/headcount", json={"headcount": 9},
                           headers={"Authorization": f"Bearer {district}"}).status_code == 200
        db.session.remove()
        db.drop_all()
        db.engine.dispose()

"""Accounts without the command line: the operator's accounts pages, invitation links, password
resets, disabling, bulk onboarding of an event's hosts from the directory, and e-mail notices to
people without an address recorded as skipped."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import AuditEntry, Invitation, Notification, Unit, User
from launch.services import accounts, notifications, onboarding
from tests.conftest import login
from tests.support.factories import make_event


def links_on(page_html: str) -> dict[str, str]:
    """{user name: secret} of every card on a printed link sheet."""
    cards = re.findall(r'<figure class="invite-card" data-user="([^"]+)" data-url="[^"]+/welcome/([^"]+)"', page_html)
    return dict(cards)


def vi(client):
    client.get("/lang/vi")
    return client


def test_operator_creates_a_host_who_sets_their_own_password_with_a_one_time_link(app, users, as_user):
    op = vi(as_user("operator"))
    resp = op.post("/admin/users/new", data={"username": "tuhiep", "display_name": "Phạm Thị Hoa", "role": "host",
                                             "units": "21043", "email": "hoa@example.vn", "phone": "0905 123 456"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    secret = links_on(html)["tuhiep"]
    assert "<svg" in html and "Dùng một lần, hiệu lực đến" in html  # the QR and the expiry, in Vietnamese
    user = db.session.scalar(select(User).where(User.username == "tuhiep"))
    assert (user.email, user.phone, [u.code for u in user.units]) == ("hoa@example.vn", "0905 123 456", ["21043"])
    # Only the link's hash is kept; nobody can sign in before the owner sets a password.
    assert db.session.scalar(select(Invitation.token_hash)) != secret
    assert login(app.test_client(), "tuhiep", secret).status_code != 302

    phone = vi(app.test_client())
    page = phone.get(f"/welcome/{secret}")
    assert page.status_code == 200 and "tuhiep" in page.get_data(as_text=True)
    bad = phone.post(f"/welcome/{secret}", data={"password": "abc", "confirm": "abc"})
    assert bad.status_code == 400 and "Mật khẩu phải có ít nhất 10 ký tự." in bad.get_data(as_text=True)
    differ = phone.post(f"/welcome/{secret}", data={"password": "hoa-2023-qn", "confirm": "hoa-2023-qm"})
    assert differ.status_code == 400 and "Hai mật khẩu không khớp nhau." in differ.get_data(as_text=True)
    ok = phone.post(f"/welcome/{secret}", data={"password": "hoa-2023-qn", "confirm": "hoa-2023-qn"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/c/")
    assert phone.get("/c/").status_code == 200  # signed in as the new host
    # One time only.
    again = app.test_client().get(f"/welcome/{secret}")
    assert again.status_code == 410 and b'data-code="link_used"' in again.data
    assert login(app.test_client(), "tuhiep", "hoa-2023-qn").status_code == 302
    assert app.test_client().get("/welcome/not-a-link").status_code == 404


def test_links_expire_and_a_new_link_replaces_the_old(app, users):
    user, first = accounts.create_account({"username": "moi", "display_name": "Mới", "role": "viewer"})
    _inv, second = accounts.issue_invitation(user, "invite")
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/welcome/{first}").status_code == 410  # replaced
    assert client.get(f"/welcome/{second}").status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=accounts.INVITATION_DAYS, minutes=1)):
        resp = client.post(f"/welcome/{second}", data={"password": "mat-khau-2023", "confirm": "mat-khau-2023"})
        assert resp.status_code == 410 and b'data-code="link_expired"' in resp.data
    assert db.session.scalar(select(Invitation.used_dt).where(Invitation.user_id == user.id,
                                                              Invitation.revoked_dt.is_(None))) is None


def test_bad_account_input_is_refused_whole_in_vietnamese(app, users, as_user):
    op = vi(as_user("operator"))
    before = db.session.scalar(select(func.count()).select_from(User))
    resp = op.post("/admin/users/new", data={"username": "Có Dấu", "display_name": "", "role": "host",
                                             "units": "99999", "email": "not-an-address", "phone": "gọi tôi"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    for message in ("Tên đăng nhập gồm 2 đến 80 ký tự", "not-an-address không phải là địa chỉ thư điện tử.",
                    "gọi tôi không phải là số điện thoại.", "99999"):
        assert message in html, message
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    taken = op.post("/admin/users/new", data={"username": "op", "display_name": "X", "role": "viewer"})
    assert taken.status_code == 400 and "op" in taken.get_data(as_text=True)


def test_editing_an_account_audits_from_what_to_what(app, users, as_user):
    op = vi(as_user("operator"))
    host = users["commune_host"]
    resp = op.post(f"/admin/users/{host.id}", data={"display_name": "Trần Thị Bình", "role": "host",
                                                     "units": "21046", "email": "binh@example.vn",
                                                     "phone": "0912 000 046"})
    assert resp.status_code == 302
    db.session.refresh(host)
    assert host.email == "binh@example.vn" and host.phone == "0912 000 046"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated"))
    assert entry.details["changes"]["email"] == [None, "binh@example.vn"]
    audit_page = op.get("/admin/audit").get_data(as_text=True)
    assert "Tài khoản chost: Tên:" in audit_page and "Thư điện tử: — → binh@example.vn" in audit_page
    # The accounts list shows who has no e-mail address.
    listing = op.get("/admin/users?state=no_email").get_data(as_text=True)
    assert 'data-user="chost"' not in listing and 'data-user="ohost"' in listing
    assert "chưa có thư điện tử" in listing
    # An operator cannot lock themselves out.
    me = users["operator"]
    assert op.post(f"/admin/users/{me.id}", data={"display_name": "IOC", "role": "viewer"}).status_code == 400
    op.post(f"/admin/users/{me.id}/disable")
    db.session.refresh(me)
    assert me.is_enabled


def test_disabling_ends_the_session_and_reset_stops_the_old_password(app, users, as_user):
    op = as_user("operator")
    viewer = as_user("viewer")
    assert viewer.get("/events/").status_code == 200
    target = users["viewer"]
    generation = target.session_token
    assert op.post(f"/admin/users/{target.id}/disable").status_code == 302
    db.session.refresh(target)
    assert not target.is_enabled and target.session_token != generation  # every session of the user ended
    resp = viewer.get("/events/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]  # the open session ended
    assert login(app.test_client(), "viewer").status_code != 302
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == target.id,
                                                                 AuditEntry.target_type == "user")).all()
    assert "user.disabled" in actions
    op.post(f"/admin/users/{target.id}/enable")
    assert login(app.test_client(), "viewer").status_code == 302

    host = users["commune_host"]
    page = op.post(f"/admin/users/{host.id}/reset")
    assert page.status_code == 200
    secret = links_on(page.get_data(as_text=True))["chost"]
    assert login(app.test_client(), "chost").status_code != 302  # the old password stopped working
    phone = app.test_client()
    assert phone.post(f"/welcome/{secret}", data={"password": "moi-mat-khau-1", "confirm": "moi-mat-khau-1"}
                      ).status_code == 302
    assert login(app.test_client(), "chost", "moi-mat-khau-1").status_code == 302


def test_onboarding_gives_every_host_of_an_event_an_account_and_a_printed_link(app, users, as_user):
    codes = ["524", "21046", "21043", "522"]
    event = make_event(unit_codes=codes)
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    units["21043"].host_name, units["21043"].host_phone = "Lê Văn Tâm", "0905 043 043"
    units["21043"].host_email = "tam@example.vn"
    db.session.commit()
    op = vi(as_user("operator"))
    preview = op.get(f"/admin/events/{event.id}/onboarding")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    # The users fixture already made hosts for 524 (dhost), 21046 (chost) and 522 (ohost), never signed in.
    actions = re.findall(r'<tr data-unit="(\d+)" data-action="(\w+)"', html)
    assert sorted(a for _code, a in actions) == ["create", "invite", "invite", "invite"]
    assert "danh bạ chưa có số điện thoại" in html
    sheet = op.post(f"/admin/events/{event.id}/onboarding")
    assert sheet.status_code == 200
    links = links_on(sheet.get_data(as_text=True))
    assert set(links) == {"dhost", "chost", "ohost", "binhthuan"}
    new = db.session.scalar(select(User).where(User.username == "binhthuan"))
    assert (new.display_name, new.phone, new.email, new.role) == ("Lê Văn Tâm", "0905 043 043", "tam@example.vn",
                                                                  "host")
    assert [u.code for u in new.units] == ["21043"]
    # A host who signs in keeps their account; the others get fresh links (the old ones stop working).
    phone = app.test_client()
    assert phone.post(f"/welcome/{links['binhthuan']}", data={"password": "tam-2023-qn", "confirm": "tam-2023-qn"}
                      ).status_code == 302
    again = links_on(op.post(f"/admin/events/{event.id}/onboarding").get_data(as_text=True))
    assert set(again) == {"dhost", "chost", "ohost"}
    assert app.test_client().get(f"/welcome/{links['chost']}").status_code == 410
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username.like("binhthuan%"))) == 1


def test_onboarding_names_two_points_of_the_same_name_apart(app, users):
    """Two wards are called Nguyễn Nghiêm (Quảng Ngãi city and Đức Phổ): two accounts, two names."""
    wards = db.session.scalars(select(Unit).where(Unit.name == "Phường Nguyễn Nghiêm")).all()
    assert len(wards) == 2
    event = make_event(unit_codes=[w.code for w in wards])
    rows = onboarding.onboard_hosts(event)
    names = sorted(r.user.username for r in rows)
    assert names[0] == "nguyennghiem" and names[1].startswith("nguyennghiem-")
    # No host name in the directory: the account is named after its point.
    assert {r.user.display_name for r in rows} == {"Người phụ trách Phường Nguyễn Nghiêm"}


def test_an_email_notice_to_someone_without_an_address_is_recorded_as_skipped(app, users, as_user):
    notifications.create_channel("email", "Thư IOC", {"host": "smtp.example.invalid"})
    users["operator"].email = "ioc@example.vn"
    db.session.commit()
    rows = notifications.send_notice([users["operator"], users["commune_host"]], "Nhắc lịch", "Nội dung")
    db.session.commit()
    by = {(r.user_id, r.channel_kind): r.status for r in rows}
    assert by[(users["operator"].id, "email")] == "pending"
    assert by[(users["commune_host"].id, "email")] == "skipped"
    skipped = db.session.scalar(select(Notification).where(Notification.status == "skipped"))
    assert skipped.attempts == 0 and skipped.sent_dt is None
    log = vi(as_user("operator")).get("/notices/log").get_data(as_text=True)
    assert 'data-status="skipped"' in log and "Tài khoản chưa có địa chỉ thư điện tử nên không gửi được" in log
    assert "1 người nhận chưa có địa chỉ thư điện tử" in log
    filtered = vi(as_user("operator")).get("/notices/log?status=skipped").get_data(as_text=True)
    assert filtered.count('data-status="skipped"') == 1


def test_demo_accounts_have_an_email_address(app):
    from launch.demo import DEMO_ACCOUNTS, load_demo

    load_demo()
    emails = dict(db.session.execute(select(User.username, User.email)).all())
    assert all(emails[name] for name, *_rest in DEMO_ACCOUNTS)

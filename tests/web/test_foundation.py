"""Sign-in, roles' access to every foundation page, language switch, audit page, CSRF, rate limit."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from launch import create_app
from launch.extensions import db
from launch.models import AuditEntry, Unit
from tests.conftest import login


def unit_id(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


def test_sign_in_page_is_vietnamese_by_default(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Đăng nhập" in html and 'lang="vi"' in html


def test_language_switch_to_english_and_back(client):
    resp = client.get("/lang/en?next=/login", follow_redirects=True)
    assert "Sign in" in resp.get_data(as_text=True)
    assert 'lang="en"' in resp.get_data(as_text=True)
    resp = client.get("/lang/vi?next=/login", follow_redirects=True)
    assert "Đăng nhập" in resp.get_data(as_text=True)


def test_language_switch_refuses_open_redirect(client):
    resp = client.get("/lang/en?next=https://evil.example/")
    assert resp.status_code == 302
    assert "evil" not in resp.headers["Location"]


def test_language_choice_is_remembered_for_the_user(client, users):
    login(client, "op")
    client.get("/lang/en")
    db.session.expire_all()
    assert db.session.get(type(users["operator"]), users["operator"].id).locale == "en"


def test_wrong_password_is_refused_and_audited(client, users):
    resp = client.post("/login", data={"username": "op", "password": "nope-nope"}, follow_redirects=True)
    assert "Sai tên đăng nhập hoặc mật khẩu" in resp.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.failed")) is not None


def test_passwords_are_hashed_with_scrypt_outside_tests(tmp_path):
    from launch.services.users import hash_password

    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db", SCHEDULER_ENABLED=False)
    with app.app_context():
        assert hash_password("correct horse").startswith("scrypt:")


def test_anonymous_is_sent_to_sign_in(client, directory):
    for path in ["/", "/directory/", "/directory/tree", "/admin/audit", "/directory/import"]:
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


# (path, roles allowed). Hosts' unit pages are checked separately by scope.
PAGES = [
    ("/", {"operator", "viewer", "district_host", "commune_host"}),
    ("/directory/", {"operator", "viewer", "district_host", "commune_host"}),
    ("/directory/tree", {"operator", "viewer", "district_host", "commune_host"}),
    ("/directory/import", {"operator"}),
    ("/admin/audit", {"operator", "viewer"}),
    ("/admin/users", {"operator"}),
]


@pytest.mark.parametrize(("path", "allowed"), PAGES)
def test_every_page_by_role(as_user, path, allowed):
    for role in ("operator", "viewer", "district_host", "commune_host"):
        resp = as_user(role).get(path)
        expected = 200 if role in allowed else 403
        assert resp.status_code == expected, (path, role, resp.status_code)


def test_unit_page_scope(as_user):
    binh_thanh, binh_son, city = unit_id("21046"), unit_id("524"), unit_id("522")
    assert as_user("district_host").get(f"/directory/units/{binh_thanh}").status_code == 200  # below Bình Sơn
    assert as_user("district_host").get(f"/directory/units/{binh_son}").status_code == 200
    assert as_user("district_host").get(f"/directory/units/{city}").status_code == 403
    assert as_user("commune_host").get(f"/directory/units/{binh_son}").status_code == 403
    assert as_user("viewer").get(f"/directory/units/{city}").status_code == 200
    assert as_user("operator").get("/directory/units/999999").status_code == 404


def test_operators_edit_units_hosts_their_contact_and_room_and_edits_are_audited(as_user):
    target, city = unit_id("524"), unit_id("522")
    assert as_user("viewer").post(f"/directory/units/{target}", data={"host_name": "Hacker"}).status_code == 403
    # A host edits their own point's contact and room (not its attendance or notes), never another's.
    assert as_user("district_host").post(f"/directory/units/{city}", data={"host_name": "Hacker"}).status_code == 403
    resp = as_user("district_host").post(
        f"/directory/units/{target}", data={"host_name": "Trần Văn F", "host_phone": "0905 111 222",
                                           "vc_endpoint": "Phòng họp tầng 2", "expected_attendance": "999"})
    assert resp.status_code == 302
    unit = db.session.get(Unit, target)
    db.session.refresh(unit)
    assert (unit.host_name, unit.host_phone, unit.vc_endpoint) == ("Trần Văn F", "0905 111 222", "Phòng họp tầng 2")
    assert unit.expected_attendance != 999
    page = as_user("district_host").get(f"/directory/units/{target}").get_data(as_text=True)
    assert 'name="host_phone"' in page and 'name="expected_attendance"' not in page
    resp = as_user("operator").post(
        f"/directory/units/{target}", data={"host_name": "Nguyễn Thị E", "host_phone": "0912 345 678",
                                           "expected_attendance": "250"}, follow_redirects=True)
    assert resp.status_code == 200
    db.session.refresh(unit)
    assert unit.host_name == "Nguyễn Thị E" and unit.expected_attendance == 250
    audit_page = as_user("operator").get("/admin/audit").get_data(as_text=True)
    assert "unit.updated" in audit_page and "op" in audit_page


def test_point_form_errors_speak_vietnamese(as_user):
    """WTForms' own messages were English on Vietnamese pages ("Number must be between 0 and 1000000.")."""
    operator = as_user("operator")
    operator.get("/lang/vi")
    resp = operator.post(f"/directory/units/{unit_id('524')}", data={"expected_attendance": "2000000",
                                                                      "host_phone": "0" * 41})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Số phải từ 0 đến 1000000." in html and "Không được dài quá 40 ký tự." in html
    assert "Number must be" not in html and "Field cannot be longer" not in html
    resp = operator.post(f"/directory/units/{unit_id('524')}", data={"expected_attendance": "mười"})
    assert "Không phải là số nguyên." in resp.get_data(as_text=True)


def test_directory_search_page(as_user):
    html = as_user("viewer").get("/directory/?q=tu+nghia").get_data(as_text=True)
    assert "Huyện Tư Nghĩa" in html
    html = as_user("viewer").get("/directory/?q=zzzz").get_data(as_text=True)
    assert "Không có điểm cầu nào khớp" in html


def test_directory_list_is_paginated(as_user):
    html = as_user("viewer").get("/directory/").get_data(as_text=True)
    assert "Trang 1 / 4" in html  # 187 units, 50 a page


def test_import_upload_refuses_bad_file_and_lists_lines(as_user):
    bad = "code,name,level,division_type,parent_code\n51,T,province,tỉnh,\n999,X,district,huyện,77\n".encode()
    resp = as_user("operator").post("/directory/import", data={"file": (io.BytesIO(bad), "bad.csv")},
                                    content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Dòng 3" in html and "77" in html
    assert db.session.scalar(select(Unit).where(Unit.code == "999")) is None


def test_import_upload_good_file(as_user):
    good = "code,name,level,division_type,parent_code,host_name\n524,Huyện Bình Sơn,district,huyện,51,Võ F\n"
    resp = as_user("operator").post("/directory/import", data={"file": (io.BytesIO(good.encode()), "u.csv")},
                                    content_type="multipart/form-data")
    assert "1 cập nhật" in resp.get_data(as_text=True)


def test_csrf_is_enforced_on_forms(database, request):
    from tests.conftest import make_app

    app = make_app(database, request, WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        resp = client.post("/login", data={"username": "x", "password": "y"})
        assert resp.status_code == 302  # refused and sent back with a message
        page = client.get("/login", follow_redirects=True).get_data(as_text=True)
        assert "Biểu mẫu đã hết hạn" in page or resp.headers["Location"]
        db.session.remove()
        db.engine.dispose()


def test_login_rate_limit(database, request):
    from tests.conftest import make_app

    app = make_app(database, request, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        codes = [client.post("/login", data={"username": "a", "password": "b"}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200]
        assert codes[3:] == [429, 429]
        # Another user name from the same office address is not locked out.
        assert client.post("/login", data={"username": "other", "password": "b"}).status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_security_headers(client):
    resp = client.get("/login")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_json_errors_for_api_paths(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "not_found"


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"ok": True}


def test_sign_out_is_post_only(as_user):
    c = as_user("viewer")
    assert c.get("/logout").status_code == 405
    assert c.post("/logout").status_code == 302
    assert c.get("/").status_code == 302


def test_app_boots_without_overrides_in_development(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db", SCHEDULER_ENABLED=False)
    assert app.config["CONFIG_NAME"] == "development"


def test_language_chosen_before_sign_in_is_kept(client, users):
    client.get("/lang/en")
    login(client, "viewer")
    assert "Connection points" in client.get("/directory/").get_data(as_text=True)

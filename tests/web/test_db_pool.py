"""A request holds at most one database connection (no frozen clock here: the pool's wait is real)."""
from __future__ import annotations

from datetime import timedelta

from launch.clock import utcnow
from launch.extensions import db
from launch.models import ApiToken
from launch.services import api_tokens
from tests.support.checkin import add_attendee
from tests.support.factories import make_event, point_of


def test_a_request_never_needs_a_second_database_connection(tmp_path, monkeypatch):
    """With a pool of ONE connection a Bearer check-in (token touched, then the check-in) goes
    through. A request that took a second connection deadlocks a busy pool (every request holding
    one, waiting for another): the benchmark once found it so; here it would answer 503."""
    from launch import create_app
    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user

    monkeypatch.setattr("launch.realtime.publisher.announce", lambda *a, **k: None)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/one.db",
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 3})
    with app.app_context():
        db.create_all()
        import_bundled_directory()
        host = create_user("host1", "test-pass-2023", "host", unit_codes=["21046"])
        event = make_event(state="live", start_dt=utcnow() - timedelta(minutes=10), unit_codes=["21046"])
        point_id = point_of(event, "21046").id
        person = add_attendee(event, "21046").id
        token, secret = api_tokens.create_api_token(host, "one connection")
        token_id = token.id
        db.session.remove()  # the test's own connection goes back to the pool
        resp = app.test_client().post(f"/api/v1/points/{point_id}/attendee-checkins",
                                      json={"client_id": "one-conn-0001", "attendee_id": person},
                                      headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.get_json()["code"] == "checked_in"
        assert db.session.get(ApiToken, token_id).last_used_dt is not None  # the token was touched
        db.session.remove()
        db.engine.dispose()

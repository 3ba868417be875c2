"""The data of a live event written straight to a test database (187 points, accounts, API tokens,
a roster), and the database's truth read back after the processes are done."""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any


def prepare(db_url: str, secret: str, *, attendees: int = 0, api_tokens: int = 1, start_in: timedelta | None = None,
            state: str = "live", test_window_minutes: int = 60, reminder_offsets: list[int] | None = None,
            host_codes: tuple[str, ...] = ()) -> dict[str, Any]:
    """A 187-point event (IOC + 186 points) in `state`, an operator with `api_tokens` tokens, a roster.

    `host_codes`: a host account per unit code (("districts",): one per district).
    Done in this process with the testing config (no Redis here), signing with the servers' `secret`.
    Returns ids, the operator's password, the tokens, site tokens and attendees as (id, point id).
    """
    from sqlalchemy import insert, select

    from launch import create_app
    from launch.clock import utcnow
    from launch.extensions import db
    from launch.models import Attendee, Event, EventPoint, Unit
    from launch.services.api_tokens import create_api_token
    from launch.services.directory import import_bundled_directory
    from launch.services.tokens import site_token
    from launch.services.users import create_user

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=secret)
    password = secrets.token_hex(12)
    with app.app_context():
        import_bundled_directory()
        operator = create_user("ioc-op", password, "operator")
        if host_codes == ("districts",):
            host_codes = tuple(db.session.scalars(select(Unit.code).where(Unit.level == "district")
                                                  .order_by(Unit.code)))
        hosts = [create_user(f"host-{code}", secrets.token_hex(8), "host", unit_codes=[code]) for code in host_codes]
        now = utcnow()
        start = now + start_in if start_in is not None else now - timedelta(minutes=5)
        province = db.session.scalar(select(Unit).where(Unit.level == "province"))
        event = Event(title="Lễ phát động chuyển đổi số (fault test)", start_dt=start,
                      end_dt=start + timedelta(hours=3),
                      state=state, host_unit=province, test_window_minutes=test_window_minutes,
                      reminder_offsets=reminder_offsets or [])
        db.session.add(event)
        db.session.add(EventPoint(event=event, unit=province, is_host=True, expected_attendance=100))
        units = list(db.session.scalars(select(Unit).where(Unit.level != "province").order_by(Unit.code)))
        points = [EventPoint(event=event, unit=u, expected_attendance=50) for u in units]
        db.session.add_all(points)
        db.session.commit()
        tokens = [create_api_token(operator, f"scanner {i}")[1] for i in range(api_tokens)]
        rows = [{"event_id": event.id, "unit_id": units[i % len(units)].id, "full_name": f"Người tham dự {i}",
                 "search_name": f"nguoi tham du {i}", "badge_code": secrets.token_hex(8)} for i in range(attendees)]
        if rows:
            db.session.execute(insert(Attendee), rows)
            db.session.commit()
        point_by_unit = {p.unit_id: p.id for p in points}
        people = [(a.id, point_by_unit[a.unit_id]) for a in db.session.scalars(
            select(Attendee).where(Attendee.event_id == event.id).order_by(Attendee.id))]
        data = {"event_id": event.id, "password": password, "username": "ioc-op", "api_tokens": tokens,
                "point_ids": [p.id for p in points], "site_tokens": {p.id: site_token(p) for p in points},
                "attendees": people, "host_ids": [h.id for h in hosts],
                "unit_codes": {p.id: p.unit.code for p in points}}
        db.session.remove()
        db.engine.dispose()
    return data


def db_engine(db_url: str):
    from sqlalchemy import create_engine

    return create_engine(db_url, pool_pre_ping=True)


def db_scalar(db_url: str, sql: str, **params: Any) -> Any:
    from sqlalchemy import text

    engine = db_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def db_rows(db_url: str, sql: str, **params: Any) -> list[tuple]:
    from sqlalchemy import text

    engine = db_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def attendees_per_point(db_url: str, event_id: int) -> dict[int, int]:
    """The database's truth: attendee check-ins per event point."""
    return dict(db_rows(db_url, "SELECT event_point_id, COUNT(*) FROM attendee_checkins WHERE event_id = :e "
                                "GROUP BY event_point_id", e=event_id))

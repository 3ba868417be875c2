"""Demo data for `make run` (`flask demo load`): the bundled directory, one account per role, a launch
event starting soon, a demo roster, the teams and both follow-up campaigns with reports. Idempotent.

A consumer of the services, like the CLI: nothing in the app imports it.
"""
from __future__ import annotations

from sqlalchemy import select

from launch.demo import campaigns, events, roster
from launch.extensions import db
from launch.models import Unit, User
from launch.services.directory import import_bundled_directory
from launch.services.users import create_user

#: (username, password, role, display name, unit codes). Printed by `make run`; never use in production.
DEMO_ACCOUNTS = (
    ("ioc", "ioc-demo-2023", "operator", "Cán bộ vận hành IOC", ()),
    ("btc", "btc-demo-2023", "viewer", "Ban tổ chức", ()),
    ("binhson", "binhson-demo-2023", "host", "Người phụ trách điểm cầu Bình Sơn", ("524",)),
    ("binhthanh", "binhthanh-demo-2023", "host", "Người phụ trách điểm cầu xã Bình Thạnh", ("21046",)),
)


def load_demo() -> list[tuple[str, str, str]]:
    """Load everything a new user needs to try the app; returns the demo accounts."""
    import_bundled_directory()
    for username, password, role, display_name, codes in DEMO_ACCOUNTS:
        if db.session.scalar(select(User).where(User.username == username)):
            continue
        codes = tuple(c for c in codes if db.session.scalar(select(Unit.id).where(Unit.code == c)))
        create_user(username, password, role, display_name=display_name, unit_codes=codes)
    operator = db.session.scalar(select(User).where(User.username == "ioc"))
    event = events.seed_demo(operator)
    if event is not None:
        roster.seed_demo_checkins(event)
    campaigns.seed_demo(operator)
    return [(u, p, r) for u, p, r, _n, _c in DEMO_ACCOUNTS]

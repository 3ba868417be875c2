"""Demo data for `make run`: the bundled directory, one account per role, and (from the feature
modules) a launch event relative to now and the follow-up campaigns. Idempotent."""
from __future__ import annotations

from sqlalchemy import select

from launch.extensions import db
from launch.models import Event, Unit, User
from launch.services.directory import import_bundled_directory
from launch.services.users import create_user

#: (username, password, role, display name, unit codes). Printed by `make run`; never use in production.
DEMO_ACCOUNTS = (
    ("ioc", "ioc-demo-2023", "operator", "Cán bộ vận hành IOC", ()),
    ("btc", "btc-demo-2023", "viewer", "Ban tổ chức", ()),
    ("binhson", "binhson-demo-2023", "host", "Người phụ trách điểm cầu Bình Sơn", ("524",)),
    ("binhthanh", "binhthanh-demo-2023", "host", "Người phụ trách điểm cầu xã Bình Thạnh", ("21046",)),
)
#: Demo accounts reach their (reserved, undeliverable) mailbox, so e-mail notices show up in the log.
DEMO_EMAIL_DOMAIN = "demo.example"


def load_demo() -> list[tuple[str, str, str]]:
    """Load everything a new user needs to try the app; returns the demo accounts."""
    import_bundled_directory()
    for username, password, role, display_name, codes in DEMO_ACCOUNTS:
        if db.session.scalar(select(User).where(User.username == username)):
            continue
        codes = tuple(c for c in codes if db.session.scalar(select(Unit.id).where(Unit.code == c)))
        create_user(username, password, role, display_name=display_name, unit_codes=codes,
                    email=f"{username}@{DEMO_EMAIL_DOMAIN}")
    operator = db.session.scalar(select(User).where(User.username == "ioc"))
    for seed in _feature_seeds():
        seed(operator)
    return [(u, p, r) for u, p, r, _n, _c in DEMO_ACCOUNTS]


def _feature_seeds() -> list:
    """Demo seeders of the feature modules, in dependency order."""
    from launch.services import campaigns, events, roster

    def demo_roster(operator: User | None) -> None:
        event = db.session.scalar(select(Event).where(Event.title == events.DEMO_TITLE).limit(1))
        if event is not None:
            roster.seed_demo_checkins(event)

    return [events.seed_demo, demo_roster, campaigns.seed_demo]

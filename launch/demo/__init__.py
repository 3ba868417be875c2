"""Demo data for `make run`: both maps of Quảng Ngãi (the bundled 2023 file and today's map from the
pinned `vietnam-provinces`), one account per role, and (from the feature modules) the ended launch of
28 July 2023 with its report, an upcoming launch on today's map and the follow-up campaigns. Idempotent.

The demo accounts' passwords are published (README, this file). So: never under the production
config, and whenever the app is served beyond loopback, an account still on its published password
gets a fresh random one, printed once.

A consumer of the services, like the CLI: nothing in the app imports it.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash

from launch.demo import campaigns, events, history, roster
from launch.extensions import db
from launch.models import User
from launch.services.directory import find_unit, import_bundled_directory, import_current_map
from launch.services.errors import DomainError
from launch.services.users import change_password, create_user

#: (username, password, role, display name, unit codes). Printed by `make run`; never use in production.
DEMO_ACCOUNTS = (
    ("ioc", "ioc-demo-2023", "operator", "Cán bộ vận hành IOC", ()),
    ("btc", "btc-demo-2023", "viewer", "Ban tổ chức", ()),
    ("binhson", "binhson-demo-2023", "host", "Người phụ trách điểm cầu Bình Sơn", ("524",)),
    ("binhthanh", "binhthanh-demo-2023", "host", "Người phụ trách điểm cầu xã Bình Thạnh", ("21046",)),
)
#: Demo accounts reach their (reserved, undeliverable) mailbox, so e-mail notices show up in the log.
DEMO_EMAIL_DOMAIN = "demo.example"
#: Units of today's map a demo host also acts for (Xã Bình Sơn since 1 July 2025).
DEMO_TODAY_UNITS = {"binhson": ("2025:21040",)}
#: Today's map of the demo province (its IOC and 96 communes).
DEMO_PROVINCE = "51"


class DemoAccount(NamedTuple):
    """A demo account as printed: its password, or None when it was printed before and is unchanged."""

    username: str
    password: str | None
    role: str


def _refuse_in_production() -> None:
    if current_app.config.get("CONFIG_NAME") == "production":
        raise DomainError("demo_in_production",
                          _("Demo data is never loaded under the production configuration: its passwords "
                            "are published."))


def _random_password() -> str:
    return secrets.token_urlsafe(12)


def load_demo(*, exposed: bool = False) -> list[DemoAccount]:
    """Load everything a new user needs to try the app; returns the demo accounts.

    `exposed`: the app is (or will be) served beyond loopback, so no account keeps a published
    password: new ones get random passwords, existing ones still on theirs are given one.
    """
    _refuse_in_production()
    import_bundled_directory()
    import_current_map(DEMO_PROVINCE)
    accounts: list[DemoAccount] = []
    for username, password, role, display_name, codes in DEMO_ACCOUNTS:
        if db.session.scalar(select(User).where(User.username == username)):
            continue
        codes = tuple(c for c in codes if find_unit(c) is not None)
        chosen = _random_password() if exposed else password
        create_user(username, chosen, role, display_name=display_name, unit_codes=codes,
                    email=f"{username}@{DEMO_EMAIL_DOMAIN}")
        accounts.append(DemoAccount(username, chosen, role))
    _add_todays_units()
    if exposed:
        accounts += secure_demo_accounts()
    operator = db.session.scalar(select(User).where(User.username == "ioc"))
    history.seed_history(operator)
    event = events.seed_demo(operator)
    if event is not None:
        roster.seed_demo_checkins(event, roster.codes_for(event))
    campaigns.seed_demo(operator)
    printed = {a.username for a in accounts}
    # Accounts that existed already: their published password, unless it was replaced.
    for username, password, role, _n, _c in DEMO_ACCOUNTS:
        if username not in printed:
            user = db.session.scalar(select(User).where(User.username == username))
            still = user is not None and check_password_hash(user.password_hash, password)
            accounts.append(DemoAccount(username, password if still else None, role))
    order = [a[0] for a in DEMO_ACCOUNTS]
    return sorted(accounts, key=lambda a: order.index(a.username))


def _add_todays_units() -> None:
    """Demo hosts also act for their unit on today's map (idempotent)."""
    for username, refs in DEMO_TODAY_UNITS.items():
        user = db.session.scalar(select(User).where(User.username == username))
        for ref in refs:
            unit = find_unit(ref)
            if user is not None and unit is not None and unit not in user.units:
                user.units.append(unit)
    db.session.commit()


def secure_demo_accounts() -> list[DemoAccount]:
    """Give every demo account still on its published password a fresh random one (returned, to print once).

    Called when the app is served beyond loopback: a published password must not open it from the LAN.
    Ends the sessions such an account had.
    """
    changed: list[DemoAccount] = []
    for username, password, role, _n, _c in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or not check_password_hash(user.password_hash, password):
            continue
        fresh = _random_password()
        change_password(user, fresh)
        changed.append(DemoAccount(username, fresh, role))
    return changed


def print_accounts(accounts: list[DemoAccount], echo: Callable[[str], object]) -> None:
    """Print the demo accounts (user / password / role); a password printed before is not shown again."""
    if not accounts:
        return
    echo("Demo accounts (user / password / role):")
    for account in accounts:
        shown = account.password or "(unchanged: printed when it was set)"
        echo(f"  {account.username:12} {shown:38} {account.role}")
    if any(a.password and a.password not in {p for _u, p, _r, _n, _c in DEMO_ACCOUNTS} for a in accounts):
        echo("These random passwords are printed this once: note them now.")


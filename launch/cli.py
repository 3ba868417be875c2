"""Command-line interface: `flask users ...`, `flask directory ...`, `flask demo ...`, `flask scheduler run`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from launch.services.errors import DomainError, ValidationFailed

users_cli = AppGroup("users", help="Manage accounts.")
directory_cli = AppGroup("directory", help="The directory of connection points.")
demo_cli = AppGroup("demo", help="Demo data.")
scheduler_cli = AppGroup("scheduler", help="The scheduler process.")


def _fail(exc: DomainError) -> None:
    click.echo(f"error [{exc.code}]: {exc.message}", err=True)
    for err in getattr(exc, "errors", []):
        click.echo(f"  {err}", err=True)
    sys.exit(1)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["operator", "host", "viewer"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--unit", "units", multiple=True,
              help="Unit code a host acts for (repeatable); 2025:51 names the map when several hold the code.")
@click.option("--email", default=None)
@click.option("--phone", default=None)
def create_user_command(username: str, role: str, password: str, display_name: str | None,
                        units: tuple[str, ...], email: str | None, phone: str | None) -> None:
    """Create an account."""
    from launch.services.users import create_user

    try:
        user = create_user(username, password, role, display_name=display_name, unit_codes=units,
                           email=email, phone=phone)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {user.username} ({user.role})")


@directory_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--province", default=None, metavar="CODE",
              help="Load one province of today's map (the IOC and its communes), e.g. 51.")
@click.option("--country", is_flag=True, help="Load today's whole map: a national IOC, 34 provinces, 3,321 communes.")
@click.option("--edition", default=None, metavar="CODE",
              help="The map a CSV file belongs to (default 2023; today's map is 2025).")
def import_command(path: Path | None, province: str | None, country: bool, edition: str | None) -> None:
    """Import a directory CSV (default: the bundled Quảng Ngãi 2023 file), or today's map from the
    vietnam-provinces package (--province CODE, --country); all or nothing, safe to run again."""
    from launch.services import directory

    if sum(bool(x) for x in (path, province, country)) > 1:
        raise click.UsageError("give a FILE, --province or --country, not several")
    try:
        if province or country:
            if edition not in (None, directory.CURRENT_EDITION):
                raise click.UsageError(f"today's map is edition {directory.CURRENT_EDITION}")
            result = directory.import_current_map(province if not country else None)
            source, data_date = directory.package_source()
            label = f"{source} (data {data_date}), " + (f"province {province}" if province else "whole country")
        else:
            path = path or directory.BUNDLED_CSV
            result = directory.import_directory(path.read_bytes(), source=path.name,
                                                edition=edition or directory.LEGACY_EDITION)
            label = path.name
    except (ValidationFailed, DomainError) as exc:
        _fail(exc)
    click.echo(f"{label} -> edition {result.edition}: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(username: str, password: str) -> None:
    """Set an account's password; its sessions and remember cookies end."""
    from launch.services.users import change_password, get_user_by_name

    try:
        change_password(get_user_by_name(username), password)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"password of {username} changed; its sessions were ended")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account: it cannot sign in, its sessions, sockets and API tokens stop at once."""
    from launch.services.users import get_user_by_name, set_enabled

    try:
        set_enabled(get_user_by_name(username), False)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{username} disabled")


@users_cli.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Enable a disabled account again."""
    from launch.services.users import get_user_by_name, set_enabled

    try:
        set_enabled(get_user_by_name(username), True)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{username} enabled")


@demo_cli.command("load")
def demo_load_command() -> None:
    """Load the bundled directory and the demo data (safe to run again).

    Refused under the production configuration. When HOST is not a loopback address (the app will be
    served to the LAN), demo accounts get random passwords, printed this once.
    """
    import os

    from config import is_loopback
    from launch.demo import load_demo, print_accounts

    try:
        accounts = load_demo(exposed=not is_loopback(os.environ.get("HOST", "127.0.0.1")))
    except DomainError as exc:
        _fail(exc)
    print_accounts(accounts, click.echo)


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="Run one sweep (due tasks, then pending notices) and exit.")
def scheduler_run_command(once: bool) -> None:
    """Run the one scheduler process (scaled-out deployments; the web processes run none)."""
    from flask import current_app

    from launch.jobs.scheduler import run_forever, sweep
    from launch.realtime.publisher import start_sender

    app = current_app._get_current_object()
    if once:
        click.echo(f"{sweep(app)} task(s) run")
        return
    start_sender(app)  # scaled out, the scheduler process sends the wall deltas (off the web processes)
    run_forever(app)


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    for group in (users_cli, directory_cli, demo_cli, scheduler_cli):
        app.cli.add_command(group)

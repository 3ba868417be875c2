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
@click.option("--unit", "units", multiple=True, help="Unit code a host acts for (repeatable).")
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
def import_command(path: Path | None) -> None:
    """Import a directory CSV (default: the bundled Quảng Ngãi file); all or nothing."""
    from launch.services import directory

    path = path or directory.BUNDLED_CSV
    try:
        result = directory.import_directory(path.read_bytes(), source=path.name)
    except ValidationFailed as exc:
        _fail(exc)
    click.echo(f"{path.name}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")


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

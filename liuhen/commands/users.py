"""CLI: ``liuhen user add|unlock|list`` — console accounts (the same ``api_users`` rows API tokens name).

``liuhen user add --user NAME --role ROLE [--unit UNIT] --password-stdin`` creates the user (or updates its
role/unit) and sets its password, read from the first line of standard input so it never appears in the
process list or shell history. A password set this way must be changed at the first sign-in unless
``--no-force-change`` is given (automation).
"""

from __future__ import annotations

import getpass
import json
import sys

import typer

from liuhen.console import accounts
from liuhen.console.config import get_console_settings
from liuhen.core.errors import InvalidRequest
from liuhen.wiring import open_runtime

user_app = typer.Typer(help="Web console accounts: add (with a password from stdin), unlock, list.",
                       no_args_is_help=True)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def read_password(stream: object) -> str:
    """The first line of ``stream`` without its line ending; an empty one is refused."""
    line = stream.readline()  # type: ignore[attr-defined]
    pw = line.rstrip("\r\n") if isinstance(line, str) else ""
    if not pw:
        raise InvalidRequest("--password-stdin: standard input held no password (empty first line)")
    return pw


@user_app.command("add")
def add(
    user: str = typer.Option(..., "--user", help="User name (1–64 characters)."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(accounts.ROLES)}."),
    unit: str | None = typer.Option(None, "--unit", help="Unit code (单位)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    no_force_change: bool = typer.Option(False, "--no-force-change",
                                         help="Do not require a change at first sign-in."),
) -> None:
    """Create or update a console user and set its password."""
    if not password_stdin:
        raise InvalidRequest("give --password-stdin and pipe the password in (it is never taken from argv)")
    pw = read_password(sys.stdin)
    settings = get_console_settings()
    with open_runtime() as rt, rt.catalog.tx() as conn:
        row = accounts.upsert_user(conn, name=user, role=role, unit_code=unit)
        accounts.set_password(conn, user=user, password=pw, settings=settings, must_change=not no_force_change,
                              actor=_actor())
    typer.echo(json.dumps({"user": row["name"], "role": row["role"], "unit": row["unit_code"],
                           "must_change": not no_force_change}, ensure_ascii=False))


@user_app.command("unlock")
def unlock(user: str = typer.Option(..., "--user")) -> None:
    """Lift a lockout after repeated failed sign-ins."""
    with open_runtime() as rt, rt.catalog.tx() as conn:
        accounts.unlock(conn, user=user, actor=_actor())
    typer.echo(f"unlocked {user}")


@user_app.command("list")
def list_users() -> None:
    """Users with role, unit, whether locked or still on a first password."""
    with open_runtime() as rt, rt.catalog.tx() as conn:
        rows = accounts.list_accounts(conn)
    for r in rows:
        typer.echo(json.dumps(r, ensure_ascii=False, default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")

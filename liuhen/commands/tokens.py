"""CLI: ``liuhen token …`` (admins): issue, revoke, list API tokens (stored only as SHA-256).

Like the case commands (``commands/cases.py``, whose output helpers these share) an admin-trust path:
events carry ``via: "cli"`` and ``os_user``.
"""

from __future__ import annotations

import typer

from liuhen.api.auth import DEFAULT_EXPIRES_DAYS, issue_token, list_tokens, revoke_token
from liuhen.commands.cases import JSON, _actor, _emit, _runtime

token_app = typer.Typer(
    help="API tokens (admins): issue, revoke, list. Tokens are stored only as SHA-256.", no_args_is_help=True
)


@token_app.command("issue")
def token_issue(
    user: str = typer.Option(..., "--user", help="User name (created if new)."),
    role: str = typer.Option(..., "--role", help="clerk|reviewer|legal_reviewer|supervisor|admin|external"),
    unit: str | None = typer.Option(None, "--unit", help="The user's unit code (for outside-unit flags)."),
    label: str | None = typer.Option(None, help="A note on the token."),
    expires_days: float | None = typer.Option(
        None, help=f"Expire after N days (more than 0; default {DEFAULT_EXPIRES_DAYS:g})."
    ),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="Issue a token that never expires (explicit choice)."),
    as_json: bool = JSON,
) -> None:
    """Issue a bearer token; it is printed once and stored only as its SHA-256."""

    if no_expiry and expires_days is not None:
        raise typer.BadParameter("give --expires-days N or --no-expiry, not both")
    if not no_expiry and expires_days is None:
        expires_days = DEFAULT_EXPIRES_DAYS
    with _runtime() as rt:
        tok, row = issue_token(
            rt, user=user, role=role, unit_code=unit, actor=_actor(rt), label=label, expires_days=expires_days
        )
    _emit({"token": tok, **row}, as_json)


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="Token id (see `token list`)."), as_json: bool = JSON
) -> None:
    """Revoke a token (logged as token.revoke)."""

    with _runtime() as rt:
        _emit(revoke_token(rt, token_id, actor=_actor(rt)), as_json)


@token_app.command("list")
def token_list(as_json: bool = JSON) -> None:
    """List tokens (ids, users, roles, prefixes — never the token)."""

    with _runtime() as rt:
        _emit(list_tokens(rt), as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")

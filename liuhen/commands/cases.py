"""CLI: ``liuhen case …`` (clerks), ``liuhen access …`` (``liuhen token …`` is ``commands/tokens.py``).

Commands act as ``LIUHEN_ACTOR`` (default ``cli:<os user>``) unless ``--as USER`` names an API user,
whose role then applies (approving and releasing a hold need a supervisor, a legal review needs a
legal reviewer). The CLI is an **admin-trust path**: it talks to the database directly and does not
authenticate ``--as`` — anyone who can run it against the catalog is trusted. So every event a CLI
command records also carries ``via: "cli"`` and ``os_user`` (who really ran it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from liuhen.api.auth import lookup_user
from liuhen.cases import access, scope
from liuhen.cases import service as cases
from liuhen.cases.completeness import render_html
from liuhen.cases.principal import Principal
from liuhen.catalog.stages import STAGE_LABELS
from liuhen.core.config import get_settings
from liuhen.core.timefmt import local, utc_iso
from liuhen.wiring import open_runtime

case_app = typer.Typer(help="Cases, stages, legal reviews, activities, clip links, completeness.", no_args_is_help=True)
access_app = typer.Typer(help="Supervised retrieval (调阅审批): request, approve/reject, report.", no_args_is_help=True)


def _machine(v: Any) -> Any:
    """JSON keeps UTC (``2026-12-01T18:18:32Z``)."""
    return utc_iso(v) if isinstance(v, datetime) else str(v)


def _human(v: Any) -> Any:
    """People read times in the agency's zone with its offset (``2026-12-02 02:18:32 +08:00``)."""
    return local(v, get_settings().display_tz) if isinstance(v, datetime) else v


def _emit(obj: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_machine))
    elif isinstance(obj, list):
        for row in obj:
            typer.echo("  ".join(f"{k}={_human(v)}" for k, v in row.items()))
    else:
        for k, v in obj.items():
            typer.echo(f"{k}: {_human(v)}")


def _actor(rt: Any) -> str:
    return str(rt.settings.actor_name())


@contextmanager
def _runtime() -> Iterator[Any]:
    """The runtime (``liuhen.cli`` marks every event of a CLI command ``via: "cli"`` + ``os_user``)."""
    with open_runtime() as rt:
        yield rt


JSON = typer.Option(False, "--json", help="Print JSON.")


@case_app.command("create")
def case_create(
    case_no: str = typer.Argument(..., help="案号"),
    agency: str = typer.Option(..., help="Agency."),
    subject: str = typer.Option(..., help="执法对象"),
    case_type: str = typer.Option(..., "--type", help="permit|penalty|coercive|levy|inspection"),
    major: bool = typer.Option(False, "--major", help="Major decision (needs legal review)."),
    unit: str | None = typer.Option(None, help="Unit code."),
    as_json: bool = JSON,
) -> None:
    """Open a case in stage 'filing' (立案)."""

    with _runtime() as rt:
        _emit(
            cases.create_case(
                rt,
                case_no=case_no,
                agency=agency,
                subject=subject,
                case_type=case_type,
                major=major,
                actor=_actor(rt),
                unit_code=unit,
            ),
            as_json,
        )


@case_app.command("show")
def case_show(case_no: str = typer.Argument(..., help="Case number (案号)."), as_json: bool = JSON) -> None:
    """Show a case: stages, reviews, activities, links."""

    with _runtime() as rt:
        c = cases.get_case(rt, case_no)
    if as_json:
        _emit(c, True)
        return
    typer.echo(
        f"{c['case_no']} [{c['case_type']}{' major' if c['major'] else ''}] {c['agency']} / {c['subject']}: "
        f"stage {c['stage']} ({STAGE_LABELS[c['stage']]})"
    )
    for a in c["activities"]:
        typer.echo(f"  activity {a['id']}: {a['stage']} {a['kind']} ({a['recording']}) {a['starts_at']}–{a['ends_at']}")
    for lk in c["links"]:
        state = f"unlinked {lk['unlinked_at']}" if lk["unlinked_at"] else "active"
        typer.echo(f"  link {lk['id']}: {lk['sha256'][:16]}… {lk['stage']} activity={lk['activity_id']} {state}")


@case_app.command("stage")
def case_stage(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    stage: str = typer.Argument(
        ..., help="The next stage: filing|investigation|review|decision|service|execution|closure."
    ),
    as_json: bool = JSON,
) -> None:
    """Advance to the next stage (a major case needs an approved legal review for 'decision')."""

    with _runtime() as rt:
        _emit(cases.advance_stage(rt, case_no, stage, _actor(rt)), as_json)


@case_app.command("review")
def case_review(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    opinion: str = typer.Option(..., help="The legal reviewer's opinion (审核意见)."),
    approve: bool = typer.Option(..., "--approve/--reject", help="Approve or reject."),
    as_user: str = typer.Option(
        ..., "--as", help="The legal reviewer (an existing API user with role legal_reviewer) recording it."
    ),
    as_json: bool = JSON,
) -> None:
    """Record a legal review (法制审核) by USER, who must have the legal_reviewer role."""

    with _runtime() as rt:
        reviewer = _who(rt, as_user)
        _emit(cases.record_legal_review(rt, case_no, reviewer=reviewer, opinion=opinion, approved=approve), as_json)


@case_app.command("activity")
def case_activity(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    stage: str = typer.Option(..., help="The stage the activity belongs to (e.g. investigation)."),
    kind: str = typer.Option(..., help="A kind on the recording list (e.g. seizure, hearing)."),
    starts_at: datetime = typer.Option(
        ..., "--from", formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"], help="Start, ISO 8601 (no offset = UTC)."
    ),
    ends_at: datetime = typer.Option(
        ..., "--to", formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"], help="End, ISO 8601 (no offset = UTC)."
    ),
    place: str | None = typer.Option(None, help="Where it took place."),
    officer: list[str] = typer.Option([], "--officer", help="Officer number (repeatable)."),
    as_json: bool = JSON,
) -> None:
    """Add an activity to a case stage."""

    with _runtime() as rt:
        _emit(
            cases.add_activity(
                rt,
                case_no,
                stage=stage,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                place=place,
                officers=officer,
                actor=_actor(rt),
            ),
            as_json,
        )


@case_app.command("link")
def case_link(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    file: str = typer.Argument(..., help="sha256 or file id"),
    stage: str = typer.Option(..., help="The case stage the clip is evidence for."),
    activity: int | None = typer.Option(None, help="Activity id."),
    t_start: float | None = typer.Option(None, help="Start offset in the clip (s)."),
    t_end: float | None = typer.Option(None, help="End offset in the clip (s)."),
    proves: str | None = typer.Option(None, help="What it is offered to prove (证明对象)."),
    as_json: bool = JSON,
) -> None:
    """Link a clip to the case (puts the original under legal hold)."""

    with _runtime() as rt:
        _emit(
            cases.link_clip(
                rt,
                case_no,
                file,
                stage=stage,
                activity_id=activity,
                t_start_s=t_start,
                t_end_s=t_end,
                proves=proves,
                actor=_actor(rt),
            ),
            as_json,
        )


@case_app.command("unlink")
def case_unlink(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    link_id: int = typer.Argument(..., help="Link id (see `case show`)."),
    reason: str | None = typer.Option(None, help="Why the link is removed."),
    as_json: bool = JSON,
) -> None:
    """Unlink (history kept). The legal hold stays; a supervisor releases it with `case release-hold`."""

    with _runtime() as rt:
        _emit(cases.unlink(rt, case_no, link_id, actor=_actor(rt), reason=reason), as_json)


@case_app.command("release-hold")
def case_release_hold(
    sha256: str = typer.Argument(..., help="SHA-256 of the original."),
    reason: str = typer.Option(..., help="Why the hold is released."),
    as_user: str = typer.Option(..., "--as", help="The supervisor releasing it (an existing API user)."),
    as_json: bool = JSON,
) -> None:
    """Release an original's legal hold (a supervisor; refused while linked or once its case was decided)."""

    with _runtime() as rt:
        _emit(cases.release_hold(rt, sha256, _who(rt, as_user), reason), as_json)


@case_app.command("grant")
def case_grant(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    unit: str = typer.Argument(..., help="The unit code to share the case with (a joint case, 联合办案)."),
    reason: str = typer.Option(..., help="Why (e.g. 联合办案 and the order)."),
    as_user: str = typer.Option(..., "--as", help="The supervisor of the case's unit sharing it (an API user)."),
    as_json: bool = JSON,
) -> None:
    """Share a case with another unit: it then acts on the case and its linked clips (logged case.grant)."""

    with _runtime() as rt:
        _emit(scope.grant(rt, _who(rt, as_user), case_no, unit, reason), as_json)


@case_app.command("revoke-grant")
def case_revoke_grant(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    unit: str = typer.Argument(..., help="The unit the case is shared with."),
    as_user: str = typer.Option(..., "--as", help="The supervisor of the case's unit revoking it (an API user)."),
    as_json: bool = JSON,
) -> None:
    """End a case's share with a unit (logged case.grant_revoke; the grant's history stays in the log)."""

    with _runtime() as rt:
        _emit(scope.revoke_grant(rt, _who(rt, as_user), case_no, unit), as_json)


@case_app.command("completeness")
def case_completeness(
    case_no: str = typer.Argument(..., help="Case number (案号)."),
    html_out: Path | None = typer.Option(None, "--html", help="Also write the readable HTML page here."),
    as_json: bool = JSON,
) -> None:
    """Completeness report: missing AV, coverage gaps, late uploads, clock drift. Exit 1 if incomplete."""

    with _runtime() as rt:
        rep = cases.completeness(rt, case_no)
    if html_out:
        html_out.write_text(render_html(rep), encoding="utf-8")
    if as_json:
        _emit(rep, True)
    else:
        typer.echo(
            f"{case_no}: {'complete' if rep['complete'] else 'INCOMPLETE'} "
            f"({rep['errors']} errors, {rep['warnings']} warnings)"
        )
        for f in rep["findings"]:
            typer.echo(f"  [{f['severity']}] {f['kind']}: {f['message']}")
    if not rep["complete"]:
        raise typer.Exit(1)


def _who(rt: Any, as_user: str | None) -> Any:

    return lookup_user(rt, as_user) if as_user else Principal(_actor(rt), "cli")


AS = typer.Option(None, "--as", help="Act as this API user (their role applies).")


@access_app.command("request")
def access_request(
    kind: str = typer.Option(..., help="download|export"),
    purpose: str = typer.Option(..., help="Why (调阅事由)."),
    case_no: str | None = typer.Option(None, "--case", help="Case number (案号): its linked originals / its export."),
    file: list[str] = typer.Option([], "--file", help="sha256 (repeatable)."),
    as_user: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Request approval to download originals or export a case."""

    with _runtime() as rt:
        _emit(
            access.create_request(rt, _who(rt, as_user), kind=kind, purpose=purpose, case_no=case_no, files=file),
            as_json,
        )


@access_app.command("approve")
def access_approve(
    request_id: int = typer.Argument(..., help="The pending request's id."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead."),
    note: str | None = typer.Option(None, help="A note on the decision."),
    as_user: str = typer.Option(..., "--as", help="The approving supervisor (an API user)."),
    as_json: bool = JSON,
) -> None:
    """Approve (or --reject) a pending request, as a supervisor."""

    with _runtime() as rt:
        _emit(access.decide(rt, request_id, _who(rt, as_user), approve=not reject, note=note), as_json)


@access_app.command("report")
def access_report(
    case_no: str | None = typer.Option(None, "--case", help="Only this case (and its linked clips)."),
    sha256: str | None = typer.Option(None, "--file", help="Only this clip (sha256)."),
    user: str | None = typer.Option(None, "--user", help="Only this user."),
    unusual: bool = typer.Option(False, help="Show flagged unusual access instead."),
    as_json: bool = JSON,
) -> None:
    """Who accessed what, when and why (per case, clip or user); or --unusual."""

    with _runtime() as rt:
        rows = access.unusual(rt) if unusual else access.access_log(rt, case_no=case_no, sha256=sha256, user=user)
    _emit(rows, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
    app.add_typer(access_app, name="access")

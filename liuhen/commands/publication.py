"""CLI: ``liuhen calendar …``, ``liuhen publication …``, ``liuhen report annual|verify``, ``liuhen feed follow``.

Commands act as ``LIUHEN_ACTOR`` (default ``cli:<os user>``); every event they record carries
``via: "cli"`` and ``os_user`` like the case commands (an admin-trust path, see ``commands/cases.py``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from liuhen.core.timefmt import local
from liuhen.publication import annual, calendar_store, evaluation_service, feed_follow, feed_push
from liuhen.publication import register as publications
from liuhen.publication.calendar_store import read_table_file
from liuhen.publication.register import today_cst
from liuhen.runtime import Runtime
from liuhen.wiring import open_runtime

calendar_app = typer.Typer(help="Working-day calendar: load a year's holidays and make-up days; status.",
                           no_args_is_help=True)
publication_app = typer.Typer(help="Publication of decisions (公示): list, approve, publish, revoke, rules.",
                              no_args_is_help=True)
report_app = typer.Typer(help="Annual statistics report (年报): write it, verify it.", no_args_is_help=True)
feed_app = typer.Typer(help="Supervision feed: the reference consumer.", no_args_is_help=True)


@contextmanager
def _runtime() -> Iterator[Runtime]:
    with open_runtime() as rt:
        yield rt


def _actor(rt: Runtime) -> str:
    return str(rt.settings.actor_name())


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@calendar_app.command("load")
def calendar_load(file: Path = typer.Argument(..., help="TOML or JSON year table (docs/publication.md).")) -> None:
    """Load a year's holidays and make-up working days; the loaded table wins over the built-in one."""
    table = read_table_file(file)
    with _runtime() as rt, rt.catalog.tx() as conn:
        out = publications.load_calendar(conn, table, _actor(rt))
    typer.echo(f"loaded {out['year']}: {out['holidays']} holidays, {out['workdays']} make-up working days "
               f"({out['source'] or 'no source given'})")
    for c in out["recomputed"]:
        flag = " (still PROVISIONAL)" if c["provisional"] else ""
        typer.echo(f"  {c['case_no']}: deadline {c['old_due_on']} -> {c['due_on']}{flag}")


@calendar_app.command("status")
def calendar_status(json_out: bool = typer.Option(False, "--json")) -> None:
    """Where this year's and next year's schedules come from; warns about a missing one (exit 1)."""
    with _runtime() as rt, rt.catalog.tx() as conn:
        st = calendar_store.status(conn, today_cst())
    if json_out:
        _dump([s.as_json() for s in st])
    for s in st if not json_out else []:
        typer.echo(f"{s.year}: {s.basis}" + (f" ({s.source})" if s.source else ""))
        if s.warning:
            typer.secho(f"  WARNING: {s.warning}", fg=typer.colors.YELLOW, err=True)
    if any(s.warning for s in st):
        raise typer.Exit(1)


@publication_app.command("list")
def publication_list(
    due: bool = typer.Option(False, "--due", help="Not yet out, deadline today or later (soonest first)."),
    overdue: bool = typer.Option(False, "--overdue", help="Not yet out, deadline passed."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Publication records: case, decision time, deadline (PROVISIONAL where a year is missing), state."""
    which = "overdue" if overdue else "due" if due else "all"
    with _runtime() as rt, rt.catalog.tx() as conn:
        rows = publications.listing(conn, which=which)
        zone = rt.settings.display_tz
    if json_out:
        _dump(rows)
        return
    for r in rows:
        late = "  OVERDUE" if r["overdue"] else ""
        typer.echo(f"{r['case_no']}  {r['case_type']}  decided {local(r['decided_at'], zone)}  "
                   f"due {r['deadline']}  {r['state']}{late}")


@publication_app.command("approve")
def publication_approve(
    case_no: str,
    conclusion: str = typer.Option(None, help="决定内容: the public text is rebuilt from the case, masked."),
    text_file: Path = typer.Option(None, "--text-file", help="An edited public text (checked for personal data)."),
) -> None:
    """Approve the text to publish (refused, naming it, if it still shows personal data)."""
    text = text_file.read_text("utf-8") if text_file else None
    with _runtime() as rt, rt.catalog.tx() as conn:
        row = publications.approve(conn, case_no, _actor(rt), conclusion=conclusion, text=text)
    typer.echo(row["approved_text"], nl=False)


@publication_app.command("publish")
def publication_publish(case_no: str) -> None:
    """Put the approved text out (published; later texts: updated)."""
    with _runtime() as rt, rt.catalog.tx() as conn:
        row = publications.publish(conn, case_no, _actor(rt))
    typer.echo(f"{case_no}: {row['state']} (version {row['version']})")


@publication_app.command("revoke")
def publication_revoke(case_no: str, reason: str = typer.Option(..., help="Why it is withdrawn.")) -> None:
    """Withdraw a published text."""
    with _runtime() as rt, rt.catalog.tx() as conn:
        row = publications.revoke(conn, case_no, _actor(rt), reason)
    typer.echo(f"{case_no}: {row['state']} (version {row['version']})")


@publication_app.command("rule")
def publication_rule(agency: str, case_type: str, days: int,
                     basis: str = typer.Option(..., help="The law that sets this period.")) -> None:
    """Set an agency's publication period for a case type (``*`` = all) where a law says otherwise."""
    with _runtime() as rt, rt.catalog.tx() as conn:
        calendar_store.set_rule(conn, agency, case_type, days, basis, _actor(rt))
    typer.echo(f"{agency} {case_type}: {days} working days ({basis})")


@report_app.command("annual")
def report_annual(year: int, out: Path = typer.Option(..., "--out", help="Directory to write.")) -> None:
    """Write the annual report (HTML with charts, CSV, XLSX, figures.json) at a fresh signed checkpoint."""
    with _runtime() as rt:
        doc = annual.make_report(rt, year, out, _actor(rt))
    typer.echo(f"{year}: {len(doc.flat())} figures at checkpoint size {doc.checkpoint['size']} -> {out}")


@report_app.command("verify")
def report_verify(directory: Path) -> None:
    """Recompute every figure from the log and catalog; exit non-zero naming each figure that differs."""
    with _runtime() as rt:
        res = annual.verify_report(rt, directory)
    typer.echo(f"OK: {res['figures']} figures of {res['year']} recomputed at checkpoint size "
               f"{res['checkpoint_size']}; all {res['files']} files agree")


@feed_app.command("follow")
def feed_follow_cmd(
    url: str = typer.Argument(..., help="The feed endpoint, e.g. https://agency/feed/batches"),
    state: Path = typer.Option(Path("feed-state.json"), help="Consumer state (cursor, verified checkpoint)."),
    out: Path = typer.Option(Path("feed-items.jsonl"), help="Verified items, one JSON line each."),
    trusted_key: list[str] = typer.Option([], "--trusted-key", help="The log's verifier key (first run)."),
    origin: str = typer.Option(None, help="Log origin (default: the key's name)."),
    limit: int = typer.Option(500, min=1, max=5000),
    watch: float = typer.Option(0.0, help="Keep following, polling every N seconds."),
) -> None:
    """Pull, verify (signature, consistency, every leaf) and keep the feed; rejects rewritten history."""
    kw: dict[str, Any] = {"token": os.environ.get("LIUHEN_FEED_TOKEN"), "trusted_keys": trusted_key,
                          "origin": origin, "limit": limit}
    if watch > 0:
        feed_follow.watch(url, state, out, watch, **kw)
    r = feed_follow.follow(url, state, out, **kw)
    typer.echo(f"verified up to leaf {r.next} (checkpoint size {r.checkpoint_size}): {r.items} new items in "
               f"{r.batches} batches" + (f"; dropped {r.dropped_uncommitted} uncommitted lines" if
                                          r.dropped_uncommitted else ""))


@feed_app.command("push-add")
def feed_push_add(name: str, url: str, batch_size: int = typer.Option(500, min=1, max=5000)) -> None:
    """Register (or change) a webhook consumer of the feed; it starts from leaf 0."""
    with _runtime() as rt:
        c = feed_push.add_consumer(rt, name, url, _actor(rt), batch_size)
    typer.echo(f"{c['name']}: {c['url']} from leaf {c['next_index']}")


@feed_app.command("push")
def feed_push_cmd(
    once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
    interval: float = typer.Option(5.0, help="Seconds between rounds."),
) -> None:
    """Push batches to every webhook consumer, with retries (one pusher per database)."""
    with _runtime() as rt:
        if not once:
            feed_push.run_pusher(rt, threading.Event(), interval)
        for c in rt.catalog.all("SELECT name FROM feed_consumers WHERE enabled ORDER BY id"):
            while (res := feed_push.push_once(rt, c["name"])) is not None:
                typer.echo(f"{c['name']}: {res['delivery_id']} " + ("delivered" if res["delivered"] else
                                                                    f"failed: {res['error']}"))
                if not res["delivered"]:
                    break


def evaluate_cmd(
    case_no: str = typer.Argument(None, help="A case number; omit with --by for roll-ups."),
    by: str = typer.Option(None, "--by", help="Roll up every case by unit, officer or month."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Case-file evaluation (案卷评查): a case's checklist and score, or roll-ups."""
    with _runtime() as rt:
        if by:
            rows = [r.as_json() for r in evaluation_service.rollups(rt, by, today_cst())]
            if json_out:
                _dump(rows)
            for r in rows if not json_out else []:
                typer.echo(f"{r['key']}: {r['cases']} cases, mean {r['mean_score']}, min {r['min_score']}, "
                           f"failing {r['failing']}")
            return
        if not case_no:
            raise typer.BadParameter("give a case number or --by unit|officer|month")
        _, ev = evaluation_service.evaluate_case(rt, case_no, today_cst())
    if json_out:
        _dump(ev.as_json())
        return
    typer.echo(f"{case_no}: {ev.score} ({ev.grade})")
    for f in ev.findings:
        typer.echo(f"  -{f.deduction:>3} {f.code} {f.message}" + (f" [{f.by}]" if f.manual else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")
    app.add_typer(publication_app, name="publication")
    app.add_typer(report_app, name="report")
    app.add_typer(feed_app, name="feed")
    app.command("evaluate")(evaluate_cmd)

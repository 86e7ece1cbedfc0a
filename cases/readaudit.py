"""Read audit: every authorised request that is not an access event is journaled, then sealed in batches.

* ``journal(conn, …)`` — called only by ``api.auth.authorize``, in the token lookup's transaction: one
  INSERT into ``read_journal`` before the route runs. If it fails the request is refused (503): no read
  is served unaudited. Footage routes (``api.roles.ACCESS_EVENT_ROUTES``) are not journaled — each of
  them records its own ``access.*`` event before the first byte (I5).
* ``seal(catalog)`` — under an advisory lock, takes every unsealed journal row and records ONE audit
  event ``access.read_batch`` with ``first_id``, ``last_id``, ``count`` and ``sha256`` (hex SHA-256 of
  the rows' canonical JSON lines, see ``journal_line``), stamps the rows with the event id, commits,
  then sequences the log. Returns the number of rows sealed (0: no event recorded).
* ``check(catalog)`` — recomputes every batch's digest from the rows stamped with its event id; a
  changed, deleted (or truncated) or unstamped row is a problem naming the batch (expected and
  computed values). ``liuhen audit verify`` runs it.

Ids are allocated before commit, so a batch's rows are "stamped with its event id", not "every id in
first_id..last_id": a row whose transaction committed late lands in the next batch.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
import rfc8785

from liuhen.catalog.db import Catalog
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.events import Event
from liuhen.integrity.log import record, sequence

SEAL_LOCK = 0x5244_4A4E  # "RDJN": one sealer at a time
EVENT_TYPE = "access.read_batch"
MAX_TEXT = 2048  # path and query string are cut to this many characters
SEALER = "liuhen:read-audit"

_COLUMNS = ("id", "at", "user_name", "role", "token_id", "route", "method", "path", "query", "status", "client_ip")
_SELECT = "SELECT " + ", ".join(_COLUMNS) + " FROM read_journal"
_INSERT = (
    "INSERT INTO read_journal (user_name, role, token_id, route, method, path, query, client_ip) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _text(raw: bytes | str | None) -> str:
    s = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
    return s.replace("\x00", "\\x00")[:MAX_TEXT]


def _ip(host: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None  # e.g. Starlette's TestClient ("testclient"), a unix socket


def journal(
    conn: psycopg.Connection[Any],
    *,
    user: str,
    role: str,
    token_id: int | None,
    route: str,
    method: str,
    raw_path: bytes | str,
    query: bytes | str | None,
    client_host: str | None,
) -> None:
    """Append one journal row in the caller's transaction (raises ``psycopg.Error`` if it cannot)."""
    q = _text(query) or None
    conn.execute(_INSERT, (user, role, token_id, route, method, _text(raw_path), q, _ip(client_host)), prepare=True)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def journal_line(row: dict[str, Any]) -> bytes:
    """One row's canonical line: RFC 8785 JSON of the columns (``at`` as UTC ISO-8601 with µs) + ``\\n``."""
    d = {k: row[k] for k in _COLUMNS}
    d["at"] = _iso(row["at"])
    d["client_ip"] = str(row["client_ip"]) if row["client_ip"] is not None else None
    return rfc8785.dumps(d) + b"\n"


def digest(rows: Iterable[dict[str, Any]]) -> tuple[str, int, int | None, int | None]:
    """(hex sha256 of the concatenated lines, count, first id, last id) of rows in id order."""
    h, n, first, last = hashlib.sha256(), 0, None, None
    for r in rows:
        h.update(journal_line(r))
        n += 1
        first = r["id"] if first is None else first
        last = r["id"]
    return h.hexdigest(), n, first, last


def seal(catalog: Catalog) -> int:
    """Seal every unsealed journal row into ONE ``access.read_batch`` event; return the rows sealed."""
    with catalog.tx() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEAL_LOCK,))
        rows = conn.execute(_SELECT + " WHERE sealed_event IS NULL ORDER BY id").fetchall()
        if not rows:
            return 0
        sha, n, first, last = digest(rows)
        event_id = record(
            conn,
            Event(
                EVENT_TYPE,
                SEALER,
                subject={"table": "read_journal"},
                data={"first_id": first, "last_id": last, "count": n, "sha256": sha, "format": "jcs-lines-v1"},
            ),
        )
        conn.execute(
            "UPDATE read_journal SET sealed_event = %s WHERE id = ANY(%s)", (event_id, [r["id"] for r in rows])
        )
    sequence(catalog)
    return n


def check(catalog: Catalog) -> list[str]:
    """Recompute every sealed batch from its rows; one problem per bad batch (empty: all hold).

    Catches rows changed, deleted or truncated away (a batch whose rows are gone recomputes to
    count 0), and rows stamped with a batch that is not in the log.
    """
    problems: list[str] = []
    events = catalog.all("SELECT id, body FROM log_events WHERE type = %s ORDER BY id", (EVENT_TYPE,))
    for e in events:
        data = Event.from_leaf(bytes(e["body"])).data
        with catalog.tx() as conn:
            cur = conn.execute(_SELECT + " WHERE sealed_event = %s ORDER BY id", (e["id"],))
            got = digest(cur)
        name = f"read batch event {e['id']} (journal ids {data.get('first_id')}..{data.get('last_id')})"
        expected = (data.get("sha256"), data.get("count"), data.get("first_id"), data.get("last_id"))
        if expected != got:
            problems.append(str(VerificationError(name, f"sha256/count/first/last {expected}", got)))
    orphans = catalog.one(
        "SELECT count(*) AS n, min(j.sealed_event) AS ev FROM read_journal j WHERE j.sealed_event IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM log_events e WHERE e.id = j.sealed_event AND e.type = %s)",
        (EVENT_TYPE,),
    )
    if orphans and orphans["n"]:
        problems.append(
            f"read batch event {orphans['ev']}: {orphans['n']} journal rows name a batch that is not in the log"
        )
    return problems


def query(
    catalog: Catalog,
    *,
    user: str | None = None,
    route: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 200,
    visible: tuple[str, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Journal rows, newest first, filtered by user / route / time (``at`` in [since, until)).

    ``visible``: an SQL condition on alias ``j`` (``cases.scope.read_row_sql``) limiting the rows."""
    where: list[str] = [visible[0]] if visible else []
    params: list[object] = list(visible[1]) if visible else []
    for cond, val in (
        ("user_name = %s", user),
        ("route = %s", route),
        ("at >= %s", since),
        ("at < %s", until),
        ("id < %s", before_id),
    ):
        if val is not None:
            where.append(cond)
            params.append(val)
    sql = "SELECT " + ", ".join(_COLUMNS) + ", sealed_event FROM read_journal j"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = catalog.all(sql + " ORDER BY id DESC LIMIT %s", (*params, limit))
    for r in rows:
        r["client_ip"] = str(r["client_ip"]) if r["client_ip"] is not None else None
    return rows

"""Units are boundaries: which cases and files a principal may see and act on.

The rule (one place; ``api.auth.authorize`` applies it to every route's case and file, the routes
that take objects in a body or list many apply it through the helpers here):

- A user acts on the cases and files of their own unit.
- A **supervisor** also acts on every sub-unit of their unit.
- A case shared with another unit by an explicit grant (``grant``, logged as ``case.grant``) is
  visible to that unit, and so are the clips linked to it.
- Objects without a unit (a recorder without an identity file) and principals without a unit (a
  token issued without ``--unit``: agency-wide) are not scoped.
- An object outside the caller's scope answers exactly like an unknown one (404): scope does not
  reveal what exists.

Unit codes are 12-digit, 行政区划-style (GB/T 2260 + township and village): province (2 digits),
city (2), county (2), township (3), village (3). A code's *significant prefix* is the code without its
trailing all-zero levels: ``110101000000`` (a county) → ``110101``; its sub-units are the other
12-digit codes that start with that prefix (``110101001000``, ``110101001002``). ``110100000000``
(a city) covers ``110101000000`` and ``110102000000``; ``110101000000`` does not cover
``110102000000``. Codes of any other shape are opaque: they cover only themselves.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from liuhen.cases.errors import CaseNotFound, FileNotFound
from liuhen.cases.principal import Principal
from liuhen.cases.values import check_texts
from liuhen.core.errors import Forbidden, InvalidRequest, NotFound
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.runtime import Runtime

LEVELS = (2, 4, 6, 9, 12)  # end of province, city, county, township, village digits
SUPERVISING = frozenset({"supervisor"})
_CODE = re.compile(r"[0-9]{12}")


def unit_prefix(code: str) -> str | None:
    """The significant prefix of a 12-digit unit code (``None`` for any other shape)."""
    if not _CODE.fullmatch(code):
        return None
    for end in (0, *LEVELS):
        if set(code[end:]) <= {"0"}:
            return code[:end]
    return code  # pragma: no cover - the loop always returns at end == 12


def covers(parent: str, child: str) -> bool:
    """Whether ``child`` is ``parent`` or one of its sub-units."""
    if parent == child:
        return True
    prefix = unit_prefix(parent)
    return prefix is not None and _CODE.fullmatch(child) is not None and child.startswith(prefix)


def can_act(who: Principal, unit: str | None, granted: frozenset[str] = frozenset()) -> bool:
    """The rule for one object of ``unit`` (``granted``: units the object's case is shared with)."""
    if who.unit_code is None or unit is None or unit == who.unit_code or who.unit_code in granted:
        return True
    return who.role in SUPERVISING and covers(who.unit_code, unit)


def unit_sql(who: Principal, col: str, *, unscoped_null: bool = True) -> tuple[str, list[Any]]:
    """SQL condition (and params) that ``col`` (a unit code column) is within ``who``'s own scope
    (``unscoped_null``: a NULL unit — an object without a unit — is within everybody's scope)."""
    if who.unit_code is None:
        return "TRUE", []
    conds, params = ([f"{col} IS NULL"] if unscoped_null else []) + [f"{col} = %s"], [who.unit_code]
    prefix = unit_prefix(who.unit_code)
    if who.role in SUPERVISING and prefix is not None:
        conds.append(f"({col} LIKE %s AND {col} ~ '^[0-9]{{12}}$')")
        params.append(prefix + "%")
    return "(" + " OR ".join(conds) + ")", params


def case_sql(who: Principal, alias: str = "c") -> tuple[str, list[Any]]:
    """Condition that case ``alias`` is visible to ``who`` (its unit, or a grant to who's unit)."""
    own, params = unit_sql(who, f"{alias}.unit_code")
    if who.unit_code is None:
        return own, params
    grant = f"EXISTS (SELECT 1 FROM case_unit_grants g WHERE g.case_id = {alias}.id AND g.unit_code = %s)"
    return f"({own} OR {grant})", [*params, who.unit_code]


def file_sql(who: Principal, alias: str = "f") -> tuple[str, list[Any]]:
    """Condition that file ``alias`` is visible: its unit, or linked to a case visible to ``who``."""
    own, params = unit_sql(who, f"{alias}.unit_code")
    if who.unit_code is None:
        return own, params
    case_cond, case_params = case_sql(who, "sc")
    linked = (f"EXISTS (SELECT 1 FROM links sl JOIN cases sc ON sc.id = sl.case_id WHERE sl.file_id = {alias}.id "
              f"AND sl.unlinked_at IS NULL AND {case_cond})")
    return f"({own} OR {linked})", [*params, *case_params]


def access_row_sql(who: Principal, alias: str = "a") -> tuple[str, list[Any]]:
    """Condition that an ``access_events`` row is within ``who``'s oversight: its object is of a unit in
    ``who``'s scope, or the user who accessed it is (a supervisor oversees what their people retrieve,
    in or outside the unit); rows with neither unit known are unscoped."""
    if who.unit_code is None:
        return "TRUE", []
    obj, p1 = unit_sql(who, f"{alias}.object_unit", unscoped_null=False)
    usr, p2 = unit_sql(who, f"{alias}.user_unit", unscoped_null=False)
    return f"({obj} OR {usr} OR ({alias}.object_unit IS NULL AND {alias}.user_unit IS NULL))", [*p1, *p2]


def read_row_sql(who: Principal, alias: str = "j") -> tuple[str, list[Any]]:
    """Condition that a ``read_journal`` row is within ``who``'s oversight: the reader (an ``api_users`` row)
    is of a unit in ``who``'s scope. A journal row names no object, so the reader's unit (as it is now) is
    what places it; readers without a unit (agency-wide) or unknown by name are unscoped, as access rows
    with neither unit known are."""
    if who.unit_code is None:
        return "TRUE", []
    own, params = unit_sql(who, "ju.unit_code")
    return (f"(EXISTS (SELECT 1 FROM api_users ju WHERE ju.name = {alias}.user_name AND {own}) "
            f"OR NOT EXISTS (SELECT 1 FROM api_users ju WHERE ju.name = {alias}.user_name))"), params


def request_sql(who: Principal, alias: str = "r") -> tuple[str, list[Any]]:
    """Condition that an ``access_requests`` row is ``who``'s own or names only objects in ``who``'s scope
    (its case, if any, and every listed digest) — as ``cases.requests`` decides who may approve it."""
    if who.unit_code is None:
        return "TRUE", []
    case_cond, p1 = case_sql(who, "rc")
    file_cond, p2 = file_sql(who, "rf")
    cond = (f"({alias}.requester = %s OR (({alias}.case_no IS NULL OR EXISTS (SELECT 1 FROM cases rc "
            f"WHERE rc.case_no = {alias}.case_no AND {case_cond})) AND NOT EXISTS (SELECT 1 FROM "
            f"unnest({alias}.file_sha256) rs(sha) WHERE NOT EXISTS (SELECT 1 FROM files rf "
            f"WHERE rf.sha256 = rs.sha AND {file_cond}))))")
    return cond, [who.name, *p1, *p2]


def check_case(conn: psycopg.Connection[Any], who: Principal, case_no: str) -> None:
    """``CaseNotFound`` (as for an unknown case) unless ``who`` may act on case ``case_no``."""
    cond, params = case_sql(who)
    row = conn.execute(f"SELECT {cond} AS ok FROM cases c WHERE c.case_no = %s", (*params, case_no)).fetchone()
    if row is None or not row["ok"]:
        raise CaseNotFound(f"no case {case_no!r}")


def check_file(conn: psycopg.Connection[Any], who: Principal, sha256: str) -> None:
    """``FileNotFound`` (as for an unknown file) unless ``who`` may act on the file ``sha256``."""
    cond, params = file_sql(who)
    row = conn.execute(f"SELECT {cond} AS ok FROM files f WHERE f.sha256 = %s", (*params, sha256.lower())).fetchone()
    if row is None or not row["ok"]:
        raise FileNotFound(f"no stored file {sha256.lower()}")


def check_file_ref(conn: psycopg.Connection[Any], who: Principal, ref: str | int) -> None:
    """As ``check_file`` for a digest or a file id."""
    if isinstance(ref, int):
        row = conn.execute("SELECT sha256 FROM files WHERE id = %s", (ref,)).fetchone()
        if row is None:
            raise FileNotFound(f"no stored file with id {ref}")
        ref = str(row["sha256"])
    check_file(conn, who, ref)


def check_new_case_unit(who: Principal, unit: str | None) -> None:
    """A case may be opened only for a unit the caller acts for."""
    if not can_act(who, unit):
        raise Forbidden(f"{who.name} (unit {who.unit_code}) may not open a case for unit {unit}")


def _own_case(conn: psycopg.Connection[Any], who: Principal, case_no: str) -> dict[str, Any]:
    """The case row, if ``who`` is a supervisor acting for the case's own unit (a grant does not let its
    grantee re-share). Checked here, so the CLI and in-process callers obey it too."""
    if who.role not in SUPERVISING:
        raise Forbidden(f"only a supervisor shares a case with another unit or revokes a share; "
                        f"{who.name} is {who.role}")
    check_case(conn, who, case_no)
    case = conn.execute("SELECT id, unit_code FROM cases WHERE case_no = %s FOR UPDATE", (case_no,)).fetchone()
    assert case is not None
    if not can_act(who, case["unit_code"]):
        raise Forbidden(f"{who.name} (unit {who.unit_code}) does not act for unit {case['unit_code']}, "
                        f"which case {case_no!r} belongs to; only that unit shares it or revokes a share")
    return dict(case)


def grant(runtime: Runtime, who: Principal, case_no: str, unit_code: str, reason: str) -> dict[str, Any]:
    """Share case ``case_no`` with ``unit_code`` (a joint case); logged as ``case.grant``."""
    check_texts((("unit_code", unit_code), ("reason", reason)))
    unit_code, reason = unit_code.strip(), reason.strip()
    if not unit_code or len(reason) < 2:
        raise InvalidRequest("name the unit to share the case with and the reason (e.g. 联合办案 and the order)")
    with runtime.catalog.tx() as conn:
        case = _own_case(conn, who, case_no)
        if unit_code == case["unit_code"]:
            raise InvalidRequest(f"case {case_no!r} already belongs to unit {unit_code}")
        row = conn.execute(
            "INSERT INTO case_unit_grants (case_id, unit_code, granted_by, reason) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (case_id, unit_code) DO UPDATE SET reason = EXCLUDED.reason RETURNING *",
            (case["id"], unit_code, who.name, reason),
        ).fetchone()
        assert row is not None
        ev = record(conn, Event("case.grant", who.name, subject={"case": case_no},
                                data={"unit": unit_code, "case_unit": case["unit_code"], "reason": reason,
                                      "role": who.role, "grantor_unit": who.unit_code}))
        conn.execute("UPDATE case_unit_grants SET event_id = %s WHERE id = %s", (ev, row["id"]))
    return {**dict(row), "case_no": case_no, "event_id": ev}


def revoke_grant(runtime: Runtime, who: Principal, case_no: str, unit_code: str) -> dict[str, Any]:
    """End the share of case ``case_no`` with ``unit_code``; logged as ``case.grant_revoke``.

    The grant row is deleted (the unit no longer sees the case nor its clips); its history stays in the
    audit log (the ``case.grant`` event and this one). ``NotFound`` if the case is not shared with the unit.
    """
    check_texts((("unit_code", unit_code),))
    with runtime.catalog.tx() as conn:
        case = _own_case(conn, who, case_no)
        row = conn.execute(
            "DELETE FROM case_unit_grants WHERE case_id = %s AND unit_code = %s RETURNING *", (case["id"], unit_code)
        ).fetchone()
        if row is None:
            raise NotFound(f"case {case_no!r} is not shared with unit {unit_code}")
        ev = record(conn, Event("case.grant_revoke", who.name, subject={"case": case_no},
                                data={"unit": unit_code, "case_unit": case["unit_code"], "grant_event": row["event_id"],
                                      "role": who.role, "revoker_unit": who.unit_code}))
    return {**dict(row), "case_no": case_no, "revoked_by": who.name, "revoke_event_id": ev}

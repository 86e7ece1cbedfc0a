"""Helpers for ingest tests: recorders made of small files with valid names (or deliberately bad ones)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from liuhen.ingest.layout import IDENTITY_FILE, media_name

CST = timezone(timedelta(hours=8))


def make_recorder(
    port: Path,
    serial: str,
    officer: str = "110101",
    *,
    files: Iterable[tuple[str, bytes]] | None = None,
    n: int = 3,
    size: int = 50_000,
    seed: int = 0,
    identity: bool = True,
    clock: datetime | None = None,
    start: datetime | None = None,
    seq0: int = 1,
) -> list[Path]:
    """A recorder port: identity file + media under DCIM/100MEDIA (random bytes with valid names)."""
    media = port / "DCIM" / "100MEDIA"
    media.mkdir(parents=True, exist_ok=True)
    if identity:
        ident = {
            "device_serial": serial,
            "officer_no": officer,
            "officer_name": "张伟",
            "unit_code": "110101000000",
            "firmware": "V2.3.1",
            "utc_offset": "+08:00",
            "clock": (clock or datetime.now(CST)).replace(microsecond=0).isoformat(),
        }
        (port / IDENTITY_FILE).write_text(json.dumps(ident, ensure_ascii=False), encoding="utf-8")
    start = start or datetime.now(CST).replace(microsecond=0) - timedelta(hours=2)
    out = []
    if files is None:
        rnd = __import__("random").Random(f"{serial}-{seed}")
        files = []
        for i in range(seq0 - 1, seq0 - 1 + n):
            t = start + timedelta(minutes=5 * i)
            files.append((media_name(serial, officer, t.strftime("%Y%m%d%H%M%S"), i + 1, "BIN"), rnd.randbytes(size)))
    for name, data in files:
        p = media / name
        p.write_bytes(data)
        out.append(p)
    # mtimes consistent with the names (end of recording = name time + a few seconds)
    for p in out:
        from liuhen.ingest.layout import parse_name

        pn = parse_name(p.name)
        if pn is not None:
            ts = pn.recorded_at(CST).timestamp() + 5
            os.utime(p, (ts, ts))
    return out


def named(serial: str, officer: str, seq: int, ext: str = "MP4", when: datetime | None = None) -> str:
    when = when or datetime.now(CST) - timedelta(hours=1)
    return media_name(serial, officer, when.astimezone(CST).strftime("%Y%m%d%H%M%S"), seq, ext)


def utcnow() -> datetime:
    return datetime.now(UTC)

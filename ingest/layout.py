"""How a docked recorder presents itself (the recorder layout).

A dock directory holds one directory per port. A port directory holding a recorder contains:

- ``DEVICE_INFO.json`` — the identity file the recorder writes::

      {"device_serial": "DSJ-A1-0001", "officer_no": "110101", "officer_name": "张伟",
       "unit_code": "110101000000", "firmware": "V2.3.1", "utc_offset": "+08:00",
       "clock": "2026-11-23T18:20:00+08:00"}

  ``clock`` is the recorder's own clock at the moment it docked (compared with the dock's clock to
  flag drift); ``utc_offset`` is the zone of the times in file names.
- media anywhere below it, named ``<DeviceSerial>_<OfficerNo>_<YYYYMMDDhhmmss>_<seq>.<ext>``
  (time in the recorder's local zone), with ext one of ``MEDIA_EXTS``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from liuhen.ingest.errors import DockNotFound

IDENTITY_FILE = "DEVICE_INFO.json"
NAME_PATTERN = re.compile(
    r"^(?P<serial>[A-Za-z0-9-]+)_(?P<officer>[0-9A-Za-z]+)_(?P<ts>\d{14})_(?P<seq>\d{1,6})\.(?P<ext>[A-Za-z0-9]+)$"
)
VIDEO_EXTS = frozenset({"mp4", "mov", "avi"})
AUDIO_EXTS = frozenset({"wav", "amr", "m4a"})
PHOTO_EXTS = frozenset({"jpg", "jpeg"})
MEDIA_EXTS = VIDEO_EXTS | AUDIO_EXTS | PHOTO_EXTS


def media_name(serial: str, officer_no: str, ts: str, seq: int, ext: str) -> str:
    """The file name a recorder gives a recording (``ts`` is ``YYYYMMDDhhmmss`` local time)."""
    return f"{serial}_{officer_no}_{ts}_{seq:04d}.{ext}"


IDENTITY_FIELDS = ("device_serial", "officer_no", "officer_name", "unit_code", "firmware", "utc_offset", "clock")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
DEFAULT_OFFSET = "+08:00"


def kind_of(ext: str) -> str:
    e = ext.lower()
    if e in VIDEO_EXTS:
        return "video"
    if e in AUDIO_EXTS:
        return "audio"
    if e in PHOTO_EXTS:
        return "photo"
    return "unknown"


def parse_offset(text: str | None) -> timezone:
    m = _OFFSET.match(text or DEFAULT_OFFSET)
    if not m:
        raise ValueError(f"bad utc_offset {text!r} (want +HH:MM)")
    sign = -1 if m.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


@dataclass(frozen=True)
class Identity:
    """The recorder's identity file, validated. ``clock`` is its clock at docking (aware)."""

    device_serial: str
    officer_no: str | None = None
    officer_name: str | None = None
    unit_code: str | None = None
    firmware: str | None = None
    utc_offset: str = DEFAULT_OFFSET
    clock: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "device_serial": self.device_serial,
            "officer_no": self.officer_no,
            "officer_name": self.officer_name,
            "unit_code": self.unit_code,
            "firmware": self.firmware,
            "utc_offset": self.utc_offset,
            "clock": self.clock.isoformat() if self.clock else None,
        }

    @property
    def tz(self) -> timezone:
        return parse_offset(self.utc_offset)


def read_identity(port: Path) -> tuple[Identity | None, str | None]:
    """(identity, None), or (None, why it is missing or unusable)."""
    p = port / IDENTITY_FILE
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return None, f"no {IDENTITY_FILE}"
    except OSError as exc:
        return None, f"{IDENTITY_FILE} unreadable: {exc.strerror}"
    try:
        d = json.loads(raw.decode("utf-8-sig"))
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        serial = d.get("device_serial")
        if not isinstance(serial, str) or not re.fullmatch(r"[A-Za-z0-9-]{1,64}", serial):
            raise ValueError(f"bad device_serial {serial!r}")
        offset = str(d.get("utc_offset") or DEFAULT_OFFSET)
        parse_offset(offset)
        clock = None
        if d.get("clock"):
            clock = datetime.fromisoformat(str(d["clock"]))
            if clock.tzinfo is None:
                clock = clock.replace(tzinfo=parse_offset(offset))

        def opt(k: str) -> str | None:
            v = d.get(k)
            return None if v is None else str(v)[:200]

        return (
            Identity(serial, opt("officer_no"), opt("officer_name"), opt("unit_code"), opt("firmware"), offset, clock),
            None,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"{IDENTITY_FILE} invalid: {exc}"


@dataclass(frozen=True)
class ParsedName:
    serial: str
    officer_no: str
    local_time: datetime  # naive, the recorder's local zone
    seq: int
    ext: str

    def recorded_at(self, tz: timezone) -> datetime:
        return self.local_time.replace(tzinfo=tz).astimezone(UTC)


def parse_name(name: str) -> ParsedName | None:
    m = NAME_PATTERN.match(name)
    if not m:
        return None
    try:
        t = datetime.strptime(m.group("ts"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return ParsedName(m.group("serial"), m.group("officer"), t, int(m.group("seq")), m.group("ext").lower())


def is_recorder(path: Path) -> bool:
    """A port directory holds a recorder when it has the identity file or a DCIM folder."""
    return (path / IDENTITY_FILE).is_file() or (path / "DCIM").is_dir()


def discover(path: Path) -> list[Path]:
    """The recorder port directories in ``path``: itself if it is one, else its docked sub-directories."""
    path = Path(path)
    if not path.is_dir():

        raise DockNotFound(f"{path}: not a directory (is the dock mounted, is the path right?)")
    if is_recorder(path):
        return [path]
    out = []
    for e in sorted(os.scandir(path), key=lambda e: e.name):
        if e.is_dir(follow_symlinks=False) and is_recorder(Path(e.path)):
            out.append(Path(e.path))
    if not out and any(True for _ in os.scandir(path)):
        # A directory of loose files with no identity: treat it as one (flagged) recorder.
        has_files = any(e.is_file(follow_symlinks=False) for e in os.scandir(path))
        if has_files:
            out.append(path)
    return out


_CTRL = re.compile(r"[\x00-\x1f\x7f]")


def display_name(raw: bytes) -> tuple[str, list[str]]:
    """A safe, printable name for raw path bytes, and the flags the raw name earns."""
    flags: list[str] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        flags.append("non_utf8_name")
        text = raw.decode("utf-8", "backslashreplace")
    if _CTRL.search(text):
        flags.append("control_chars_in_name")
        text = _CTRL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    parts = text.split("/")
    if any(p in ("..", ".") for p in parts) or "\\" in raw.decode("latin-1") or raw.startswith(b"/"):
        flags.append("path_traversal_name")
    return text, flags


@dataclass
class SourceEntry:
    """One thing found on a recorder: a file to ingest, or something refused (``problem``)."""

    raw: bytes  # absolute path bytes
    rel: bytes  # path relative to the port directory
    display: str
    size: int = 0
    mtime_ns: int = 0
    flags: list[str] = field(default_factory=list)
    problem: str | None = None  # error code when not ingestible
    detail: str | None = None

    @property
    def raw_hex(self) -> str | None:
        """The raw relative path bytes in hex when the display name is not an exact rendering."""
        return self.rel.hex() if {"non_utf8_name", "control_chars_in_name"} & set(self.flags) else None


def scan(port: Path) -> list[SourceEntry]:
    """Every file under ``port`` (except the identity file), walked with bytes paths, links not followed."""
    root = os.fsencode(Path(port).resolve())
    out: list[SourceEntry] = []
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            rel = os.path.relpath(d, root)
            out.append(
                SourceEntry(
                    d,
                    rel,
                    display_name(rel)[0] + "/",
                    problem="recorder_unreadable",
                    detail=f"cannot list directory: {exc.strerror}",
                )
            )
            continue
        for e in entries:
            raw = e.path if isinstance(e.path, bytes) else os.fsencode(e.path)
            rel = os.path.relpath(raw, root)
            if rel == IDENTITY_FILE.encode():
                continue
            disp, flags = display_name(rel)
            ent = SourceEntry(raw, rel, disp, flags=flags)
            try:
                st = os.lstat(raw)
            except OSError as exc:
                ent.problem, ent.detail = "vanished", f"gone before it could be examined: {exc.strerror}"
                out.append(ent)
                continue
            if stat.S_ISLNK(st.st_mode):
                ent.flags.append("symlink")
                target = os.path.realpath(raw)
                inside = target == root or target.startswith(root + b"/")
                ent.problem = "symlink_inside" if inside else "symlink_outside"
                ent.detail = f"symbolic link to {display_name(os.readlink(raw))[0]}: not followed" + (
                    "; its target is ingested directly" if inside else "; points outside the recorder"
                )
                out.append(ent)
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(raw)
                continue
            ent.size, ent.mtime_ns = st.st_size, st.st_mtime_ns
            if not stat.S_ISREG(st.st_mode):
                ent.problem, ent.detail = "not_regular_file", "not a regular file (device, FIFO or socket)"
            out.append(ent)
    out.sort(key=lambda e: e.rel)
    return out

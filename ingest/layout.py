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

import re

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

"""Issue 16 item 18 for bags: the statement and the index show times as people read them — in the
agency's zone with its offset (``Settings.display_tz``, default Asia/Shanghai) — while the machine
files (statement.json, events, bag-info.txt) keep UTC. Before the fix both pages showed bare ``…Z``."""

from __future__ import annotations

import json
import re
from typing import Any

from liuhen.export.statement import index_html, readme_txt, statement_html
from tests.export.test_service import exported  # noqa: F401  (module fixture)

BARE_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _doc() -> dict[str, Any]:
    """18:18:32Z on 1 Dec is 02:18:32 on 2 Dec in Shanghai (UTC+8, no DST); 23:30Z is 07:30 next day."""
    item = {"item": 1, "path": "data/originals/x.mp4", "original_name": "x.mp4", "sha256": "ab" * 32, "size": 3,
            "media_kind": "video", "production_method": {"zh": "z", "en": "e"},
            "production_time": {"start": "2026-12-01T18:18:32Z", "end": "2026-12-01T18:20:32Z", "duration_s": 120},
            "producer": {"officer_no": "1", "officer_name": "陈", "unit_code": "U", "device_serial": "D"},
            "proves": [], "links": [], "derived": []}
    return {"case": {"case_no": "杭执〔2026〕1号", "agency": "A", "subject": "S", "stage": "investigation"},
            "export": {"time": "2026-12-01T23:30:00Z", "exporter": "clerk", "selection": {"stage": None},
                       "log_size": 5},
            "items": [item],
            "custody": {"events": [{"idx": 0, "time": "2026-12-01T18:18:40Z", "premis_event_type": "ingestion",
                                    "type": "ingestion", "actor": "dock"}]}}


def test_pages_show_local_time_with_offset_never_bare_utc() -> None:
    doc = _doc()
    st, ix, rd = statement_html(doc, "Asia/Shanghai"), index_html(doc, "Asia/Shanghai"), readme_txt(doc, ("sha256",),
                                                                                                     "Asia/Shanghai")
    assert "2026-12-02 02:18:32 +08:00" in st and "2026-12-02 02:20:32 +08:00" in st
    assert "2026-12-02 07:30:00 +08:00" in st and "2026-12-02 07:30:00 +08:00" in ix and "07:30:00 +08:00" in rd
    assert "2026-12-02 02:18:40 +08:00" in ix  # the custody table
    for page in (st, ix, rd):
        assert not BARE_UTC.search(page), BARE_UTC.search(page)


def test_the_zone_is_configurable() -> None:
    assert "2026-12-01 13:18:32 -05:00" in statement_html(_doc(), "America/New_York")


def test_an_exported_bag_pages_use_the_display_zone_and_json_keeps_utc(exported: dict[str, Any]) -> None:  # noqa: F811
    bag = exported["full"].path
    for page in ("statement.html", "index.html", "README.txt"):
        text = (bag / page).read_text(encoding="utf-8")
        assert not BARE_UTC.search(text), (page, BARE_UTC.search(text))
        assert "+08:00" in text, page
    doc = json.loads((bag / "statement.json").read_text(encoding="utf-8"))
    assert doc["export"]["time"].endswith("Z") and doc["items"][0]["production_time"]["start"].endswith("Z")
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    assert re.search(r"^Liuhen-Export-Time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", info, re.M)

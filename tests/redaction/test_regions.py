"""CLI/API region specs → region documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liuhen.redaction.errors import RegionSpecInvalid
from liuhen.redaction.regions import build, load, manual_region, parse_box_spec, parse_range, parse_time_ms, remove

MEDIA = {"kind": "video", "width": 640, "height": 360, "fps": [30, 1], "frames": 60}


@pytest.mark.parametrize(("text", "ms"), [("12", 12000), ("12.5", 12500), ("0.05", 50), ("1:02.250", 62250),
                                          ("1:00:02", 3602000)])
def test_times_parse_exactly_to_milliseconds(text: str, ms: int) -> None:
    assert parse_time_ms(text) == ms


def test_box_spec() -> None:
    assert parse_box_spec("1.5-3:10,20,30,40") == (1500, 3000, (10, 20, 30, 40))
    assert parse_range("0-0.5") == (0, 500)


@pytest.mark.parametrize("bad", ["3-1:0,0,1,1", "1-2:0,0,0,1", "1-2:a,b,c,d", "1-2", "x-2:0,0,1,1"])
def test_bad_specs_name_the_problem(bad: str) -> None:
    with pytest.raises(RegionSpecInvalid, match=r"region|time"):
        parse_box_spec(bad)


def test_remove_drops_named_regions_and_refuses_unknown_ids(tmp_path: Path) -> None:
    d = build(MEDIA, [manual_region("a", 0, 100, (0, 0, 4, 4)), manual_region("b", 0, 100, (8, 8, 4, 4))], [])
    assert [r["id"] for r in remove(d, ["a"])["regions"]] == ["b"]
    with pytest.raises(RegionSpecInvalid, match="no region with id zzz"):
        remove(d, ["zzz"])
    p = tmp_path / "r.json"
    p.write_text(json.dumps(d))
    assert load(p) == d
    p.write_text("{not json")
    with pytest.raises(RegionSpecInvalid, match=r"r\.json"):
        load(p)

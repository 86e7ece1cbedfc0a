"""Region document evaluation: known answers derived by hand from the documented rules."""

from __future__ import annotations

import hashlib

import pytest

from liuhen.redaction.regions_core import (
    RegionsInvalid,
    active,
    box_at,
    canonical,
    digest,
    frame_time_ms,
    padded,
    validate,
)

MEDIA = {"kind": "video", "width": 640, "height": 360, "fps": [30000, 1001], "frames": 100}


def region(**kw: object) -> dict[str, object]:
    r: dict[str, object] = {"id": "r1", "kind": "manual", "mode": "hide", "method": "blur", "unit": "frame",
                            "pad_pct": 0, "keys": [[10, 0, 0, 10, 10], [20, 100, 50, 20, 30]]}
    r.update(kw)
    return r


def doc(*regions: dict[str, object], audio: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"format": "liuhen-redaction-regions", "version": 1, "media": MEDIA, "regions": list(regions),
            "audio": audio or []}


def test_canonical_is_sorted_compact_json_and_digest_is_its_sha256() -> None:
    d = {"b": 1, "a": [2, {"d": "x", "c": 3}]}
    assert canonical(d) == b'{"a":[2,{"c":3,"d":"x"}],"b":1}'
    assert digest(d) == hashlib.sha256(b'{"a":[2,{"c":3,"d":"x"}],"b":1}').hexdigest()


def test_box_moves_linearly_with_floor_division_between_keys() -> None:
    r = region()
    assert box_at(r, 9) is None and box_at(r, 21) is None
    assert box_at(r, 10) == (0, 0, 10, 10)
    # t=15: half-way → x = 0 + 100*5//10 = 50, y = 25, w = 10 + 10*5//10 = 15, h = 10 + 20*5//10 = 20
    assert box_at(r, 15) == (50, 25, 15, 20)
    # t=13: x = 100*3//10 = 30, y = 50*3//10 = 15, w = 10 + 10*3//10 = 13, h = 10 + 20*3//10 = 16
    assert box_at(r, 13) == (30, 15, 13, 16)
    assert box_at(r, 20) == (100, 50, 20, 30)


def test_padding_grows_per_side_rounds_outward_to_even_and_clips() -> None:
    # 20 % of 51 = 10 (floor), of 41 = 8: x0 = 101-10 = 91 → 90; y0 = 33-8 = 25 → 24;
    # x1 = 101+51+10 = 162 (even); y1 = 33+41+8 = 82 (even) → w 72, h 58
    assert padded((101, 33, 51, 41), 20, 640, 360) == (90, 24, 72, 58)
    # clipped at the picture edges: x0 = -5 → 0 … x1 = 650 → 640
    assert padded((0, 0, 650, 10), 0, 640, 360) == (0, 0, 640, 10)
    assert padded((700, 0, 10, 10), 0, 640, 360) is None


def test_frame_time_uses_exact_rational_rate() -> None:
    # 29.97 fps: frame 30 starts at 30 * 1000 * 1001 / 30000 = 1001 ms; frame 1 at 33.366 → 33
    assert frame_time_ms(MEDIA, 30) == 1001
    assert frame_time_ms(MEDIA, 1) == 33
    assert frame_time_ms({**MEDIA, "kind": "photo"}, 5) == 0


def test_ms_regions_follow_frame_times() -> None:
    r = region(unit="ms", keys=[[1000, 0, 0, 10, 10], [2000, 0, 0, 10, 10]])
    d = validate(doc(r))
    assert active(d, 29) == []  # 967 ms
    assert [rect for _, rect in active(d, 30)] == [(0, 0, 10, 10)]  # 1001 ms
    assert active(d, 60) == []  # 2002 ms


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "smudge"}, "regions[0].method"),
        ({"keys": [[5, 0, 0, 0, 10]]}, "regions[0].keys[0].w"),
        ({"keys": [[5, 0, 0, 1, 1], [5, 0, 0, 1, 1]]}, "not after"),
        ({"pad_pct": 1.5}, "regions[0].pad_pct"),
        ({"keys": [[True, 0, 0, 1, 1]]}, "regions[0].keys[0].t"),
    ],
)
def test_validate_names_the_bad_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(RegionsInvalid, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate(doc(region(**change)))


def test_validate_rejects_duplicate_ids_and_bad_audio() -> None:
    with pytest.raises(RegionsInvalid, match="duplicate"):
        validate(doc(region(), region()))
    with pytest.raises(RegionsInvalid, match="t1_ms 100 not after t0_ms 200"):
        validate(doc(audio=[{"t0_ms": 200, "t1_ms": 100, "action": "mute"}]))

"""``export.bag.BagWriter``: one line per bag-info field, the value exactly as given — or refused."""

from __future__ import annotations

from pathlib import Path

import bagit
import pytest

from liuhen.export.bag import BagWriter
from liuhen.export.errors import UnsafeBagText


def test_an_injected_payload_oxum_line_never_becomes_a_tag_line(tmp_path: Path) -> None:
    """Before the fix the value was flattened to one line (so the bag and its log disagreed); a raw
    writer would have produced a second ``Payload-Oxum``. Now it is refused, naming field and character."""
    w = BagWriter(tmp_path / "bag")
    w.add_payload_stream("a.bin", [b"abc"])
    with pytest.raises(UnsafeBagText, match=r"Source-Organization contains U\+000A"):
        w.finish([("Source-Organization", "Agency\nPayload-Oxum: 1.1")])


def test_values_are_written_as_given_and_bagit_reads_them_back(tmp_path: Path) -> None:
    w = BagWriter(tmp_path / "bag")
    w.add_payload_stream("a.bin", [b"abc"])
    w.finish([("Source-Organization", "杭州市〔２０２６〕执法局  一队"), ("External-Identifier", "杭执〔2026〕12号")])
    bag = bagit.Bag(str(tmp_path / "bag"))
    bag.validate()
    assert bag.info["Source-Organization"] == "杭州市〔２０２６〕执法局  一队"
    assert bag.info["Payload-Oxum"] == "3.1"

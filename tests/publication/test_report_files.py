"""Annual report files: four renderings of one figures document, each read back and compared by name."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from liuhen.publication.charts import bar_chart_png
from liuhen.publication.errors import ReportFiguresInvalid
from liuhen.publication.figures import FiguresDoc, figure, loads
from liuhen.publication.report_files import compare_report, read_back, write_report

CP = {"origin": "liuhen.test/audit", "size": 42, "root": "AAAA", "note": "liuhen.test/audit\n42\nAAAA\n\n— k sig\n"}


def _doc() -> FiguresDoc:
    return FiguresDoc(2026, "2027-01-05T08:00:00Z", CP, (
        figure("cases_by_type", "按类别统计的案件数", "cases", {"penalty": 12, "permit": 30, "inspection": 0}),
        figure("recording_hours_by_unit", "各单位记录时长", "hours", {"110101000000": 12.3456789, "110102000000": 0.5}),
        figure("disposals", "销毁", "originals", {"count": 3}),
    ))


def test_chart_is_a_real_png_of_the_expected_size() -> None:
    png = bar_chart_png(_doc().figures[0])
    img = Image.open(io.BytesIO(png))
    assert (img.format, img.size) == ("PNG", (800, 400))
    colours = img.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 10  # bars, text and antialiasing, not a blank canvas
    rgb = [c for _, c in colours if isinstance(c, tuple)]
    assert (0x3B, 0x6E, 0xA5) in rgb  # the bar colour is drawn


def test_write_and_read_back_agree(tmp_path: Path) -> None:
    doc = _doc()
    write_report(doc, tmp_path)
    flat = doc.flat()
    assert flat["recording_hours_by_unit/110101000000"] == 12.345679  # rounded to 6 places everywhere
    assert read_back(tmp_path) == {"report.html": flat, "figures.csv": flat, "figures.xlsx": flat}
    assert loads((tmp_path / "figures.json").read_text()).flat() == flat
    assert compare_report(flat, tmp_path) == []
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert "src='http" not in html and "href=" not in html  # nothing fetched from the network
    wb = load_workbook(tmp_path / "figures.xlsx")
    assert wb["checkpoint"]["B2"].value == 42


@pytest.mark.parametrize("target", ["figures.json", "figures.csv", "figures.xlsx", "report.html"])
def test_an_edited_figure_is_named_with_its_file(tmp_path: Path, target: str) -> None:
    doc = _doc()
    write_report(doc, tmp_path)
    p = tmp_path / target
    if target == "figures.json":
        j = json.loads(p.read_text())
        j["figures"]["cases_by_type"]["values"]["penalty"] = 13
        p.write_text(json.dumps(j, ensure_ascii=False))
    elif target == "figures.csv":
        p.write_text(p.read_text("utf-8-sig").replace("penalty,12,", "penalty,13,"), "utf-8-sig")
    elif target == "figures.xlsx":
        wb = load_workbook(p)
        wb["figures"]["D2"] = 13
        wb.save(p)
    else:
        cell = "data-figure='cases_by_type/penalty'>"
        p.write_text(p.read_text().replace(cell + "12<", cell + "13<"))
    assert compare_report(doc.flat(), tmp_path) == [f"{target}: figure cases_by_type/penalty = 13, recomputed 12"]


def test_missing_files_and_garbage_are_named(tmp_path: Path) -> None:
    write_report(_doc(), tmp_path)
    (tmp_path / "figures.xlsx").unlink()
    with pytest.raises(ReportFiguresInvalid, match=r"lacks figures\.xlsx"):
        read_back(tmp_path)
    with pytest.raises(ReportFiguresInvalid, match="format must be"):
        loads('{"format": "other"}')
    with pytest.raises(ReportFiguresInvalid, match="x/y: 'a' is not a number"):
        figure("x", "t", "u", {"y": "a"})

"""Annual report files: ``figures.json``, ``report.html`` (charts embedded), ``figures.csv``, ``figures.xlsx``.

Every number appears in four places; ``read_back`` reads each of them so ``liuhen report verify`` can
name the file and the figure that differs from a recomputation. In the HTML each value cell carries
``data-figure="<figure>/<key>"``. CSV and the XLSX sheet ``figures`` have the columns
``figure, title, key, value, unit``; the sheet ``checkpoint`` states origin, size, root and note.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import Workbook, load_workbook

from liuhen.publication.charts import bar_chart_png
from liuhen.publication.errors import ReportFiguresInvalid
from liuhen.publication.figures import FiguresDoc, Number, diff, loads

FILES = ("figures.json", "report.html", "figures.csv", "figures.xlsx")
COLUMNS = ("figure", "title", "key", "value", "unit")


def _rows(doc: FiguresDoc) -> list[tuple[str, str, str, Number, str]]:
    return [(f.name, f.title, k, v, f.unit) for f in doc.figures for k, v in f.values.items()]


def render_html(doc: FiguresDoc) -> str:
    e = html.escape
    cp = doc.checkpoint
    parts = [
        "<!doctype html><html lang=zh><head><meta charset=utf-8>",
        f"<title>{doc.year}年度行政执法统计年报</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px}td.v{text-align:right}pre{white-space:pre-wrap}</style>",
        f"</head><body><h1>{doc.year}年度行政执法统计年报</h1>",
        f"<p>Computed at {e(doc.computed_at)} from the audit log at the signed checkpoint of size "
        f"<b>{e(str(cp.get('size', '')))}</b>, root <code>{e(str(cp.get('root', '')))}</code> "
        f"(origin {e(str(cp.get('origin', '')))}). Every figure can be recomputed with "
        f"<code>liuhen report verify DIR</code>.</p><pre class=checkpoint>{e(str(cp.get('note', '')))}</pre>",
    ]
    for f in doc.figures:
        png = base64.b64encode(bar_chart_png(f)).decode() if f.values else ""
        parts.append(f"<section id='{e(f.name)}'><h2>{e(f.title)}</h2><table><tr><th>{e(f.name)}</th>"
                     f"<th>{e(f.unit)}</th></tr>")
        for k, v in f.values.items():
            parts.append(f"<tr><td>{e(k)}</td><td class=v data-figure='{e(f.name)}/{e(k)}'>{v}</td></tr>")
        parts.append("</table>")
        if png:
            parts.append(f"<img alt='{e(f.name)}' width=800 height=400 src='data:image/png;base64,{png}'>")
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "".join(parts)


def render_csv(doc: FiguresDoc) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(_rows(doc))
    return buf.getvalue()


def render_xlsx(doc: FiguresDoc) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "figures"
    ws.append(list(COLUMNS))
    for row in _rows(doc):
        ws.append(list(row))
    cps = wb.create_sheet("checkpoint")
    for k in ("origin", "size", "root", "note"):
        cps.append([k, doc.checkpoint.get(k)])
    cps.append(["year", doc.year])
    cps.append(["computed_at", doc.computed_at])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_report(doc: FiguresDoc, out: Path) -> list[Path]:
    """Write the four files into ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "figures.json": doc.dumps().encode(),
        "report.html": render_html(doc).encode(),
        "figures.csv": render_csv(doc).encode("utf-8-sig"),  # BOM: Excel opens UTF-8 CSV correctly
        "figures.xlsx": render_xlsx(doc),
    }
    paths = []
    for name, data in files.items():
        p = out / name
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(p)
        paths.append(p)
    return paths


def _number(text: str, where: str) -> Number:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError as exc:
            raise ReportFiguresInvalid(f"{where}: {text!r} is not a number") from exc


def read_csv(path: Path) -> dict[str, Number]:
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ReportFiguresInvalid(f"{path.name}: header must be {','.join(COLUMNS)}")
    return {f"{r[0]}/{r[2]}": _number(r[3], f"{path.name} row {i + 2}") for i, r in enumerate(rows[1:]) if r}


def read_xlsx(path: Path) -> dict[str, Number]:
    ws = load_workbook(path, read_only=True)["figures"]
    rows = list(ws.iter_rows(values_only=True))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ReportFiguresInvalid(f"{path.name}: sheet 'figures' header must be {','.join(COLUMNS)}")
    return {f"{r[0]}/{r[2]}": _number(str(r[3]), f"{path.name} row {i + 2}") for i, r in enumerate(rows[1:]) if r[0]}


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open = dict(attrs).get("data-figure") if tag == "td" else None
        if self._open is not None:
            self.cells[self._open] = ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.cells[self._open] += data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def read_html(path: Path) -> dict[str, Number]:
    p = _Cells()
    p.feed(path.read_text("utf-8"))
    return {k: _number(v.strip(), f"{path.name} {k}") for k, v in p.cells.items()}


def read_back(out: Path) -> dict[str, dict[str, Number]]:
    """The numbers of each report file (``figures.json`` excluded: parse it with ``figures.loads``)."""
    missing = [n for n in FILES if not (out / n).is_file()]
    if missing:
        raise ReportFiguresInvalid(f"report directory {out} lacks {', '.join(missing)}")
    return {"report.html": read_html(out / "report.html"), "figures.csv": read_csv(out / "figures.csv"),
            "figures.xlsx": read_xlsx(out / "figures.xlsx")}


def compare_report(recomputed: dict[str, Number], out: Path) -> list[str]:
    """Every difference between a recomputation and each file of the report in ``out``, by file and figure."""
    from_json = loads((out / "figures.json").read_text("utf-8")).flat() if (out / "figures.json").is_file() else {}
    problems = diff(recomputed, from_json, "figures.json")
    for name, numbers in read_back(out).items():
        problems += diff(recomputed, numbers, name)
    return problems

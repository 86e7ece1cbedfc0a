"""Annual statistics report figures (行政执法统计年报): the document format and its comparison — pure.

A figures document (``figures.json``)::

    {"format": "liuhen.annual-report/v1", "year": 2026, "computed_at": "…Z",
     "checkpoint": {"origin": …, "size": N, "root": "<base64>", "note": "<signed note>"},
     "figures": {"cases_by_type": {"title": "…", "unit": "cases", "values": {"penalty": 120, …}}, …}}

Every figure is a table of key → number; one number is named ``<figure>/<key>`` (``flatten``). Floats
are rounded with ``ROUNDING`` before they are stored *and* before they are compared, so a recomputation
equals the file exactly. ``diff`` names every number that differs, is missing or is extra.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from liuhen.publication.errors import ReportFiguresInvalid

FORMAT = "liuhen.annual-report/v1"
ROUNDING = 6  # decimal places of float figures (hours, TB, shares)
Number = int | float


def normalise(value: object, where: str) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFiguresInvalid(f"figure {where}: {value!r} is not a number")
    return value if isinstance(value, int) else round(float(value), ROUNDING)


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    unit: str
    values: dict[str, Number]

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "unit": self.unit, "values": self.values}


def figure(name: str, title: str, unit: str, values: Mapping[str, object]) -> Figure:
    if not name or "/" in name:
        raise ReportFiguresInvalid(f"figure name {name!r} must be non-empty without '/'")
    return Figure(name, title, unit, {str(k): normalise(v, f"{name}/{k}") for k, v in values.items()})


@dataclass(frozen=True)
class FiguresDoc:
    year: int
    computed_at: str
    checkpoint: dict[str, Any]
    figures: tuple[Figure, ...]

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "year": self.year, "computed_at": self.computed_at,
                "checkpoint": self.checkpoint, "figures": {f.name: f.as_json() for f in self.figures}}

    def dumps(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    def flat(self) -> dict[str, Number]:
        return flatten(self.figures)


def flatten(figures: tuple[Figure, ...] | list[Figure]) -> dict[str, Number]:
    return {f"{f.name}/{k}": v for f in figures for k, v in f.values.items()}


def loads(text: str) -> FiguresDoc:
    """Parse ``figures.json``; errors name what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFiguresInvalid(f"figures.json is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ReportFiguresInvalid(f"figures.json: format must be {FORMAT!r}")
    figs = doc.get("figures")
    cp = doc.get("checkpoint")
    if not isinstance(figs, dict) or not isinstance(cp, dict) or not isinstance(doc.get("year"), int):
        raise ReportFiguresInvalid("figures.json: needs year (int), checkpoint (object) and figures (object)")
    out = []
    for name, f in figs.items():
        if not isinstance(f, dict) or not isinstance(f.get("values"), dict):
            raise ReportFiguresInvalid(f"figure {name}: needs title, unit and values")
        out.append(figure(name, str(f.get("title", "")), str(f.get("unit", "")), f["values"]))
    return FiguresDoc(doc["year"], str(doc.get("computed_at", "")), cp, tuple(out))


def diff(expected: Mapping[str, Number], found: Mapping[str, Number], where: str) -> list[str]:
    """Every number of ``expected`` (recomputed) that ``found`` (in ``where``) lacks, adds or changes."""
    out = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            out.append(f"{where}: figure {name} missing (recomputed {expected[name]})")
        elif name not in expected:
            out.append(f"{where}: figure {name} = {found[name]} is not a figure of the report")
        elif found[name] != expected[name]:
            out.append(f"{where}: figure {name} = {found[name]}, recomputed {expected[name]}")
    return out

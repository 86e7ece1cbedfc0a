"""Bar charts of report figures as PNG bytes (matplotlib, Agg backend: no display, no network).

Labels are the figure's keys (codes: case types, stages, unit codes) so the default font renders them
on any machine; the Chinese titles are in the HTML around the chart. Output is deterministic for a
given matplotlib version (no timestamp or software metadata in the PNG).
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from liuhen.publication.figures import Figure

WIDTH_PX, HEIGHT_PX, DPI = 800, 400, 100
MAX_BARS = 40


def bar_chart_png(fig: Figure, *, width_px: int = WIDTH_PX, height_px: int = HEIGHT_PX) -> bytes:
    """A bar chart of ``fig.values`` (at most ``MAX_BARS`` largest keys), exactly width × height pixels."""
    items = list(fig.values.items())
    if len(items) > MAX_BARS:
        items = sorted(items, key=lambda kv: kv[1], reverse=True)[:MAX_BARS]
    keys = [k for k, _ in items]
    vals = [float(v) for _, v in items]
    # a Figure with its own Agg canvas, not pyplot: no global figure registry (safe in a threaded server)
    # and a lighter import
    mfig = MplFigure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(mfig)
    ax = mfig.subplots()
    ax.bar(range(len(vals)), vals, color="#3b6ea5")
    crowded = len(keys) > 6
    ax.set_xticks(range(len(keys)), keys, rotation=30 if crowded else 0, ha="right" if crowded else "center",
                  fontsize=8)
    ax.set_title(fig.name, fontsize=10)
    ax.set_ylabel(fig.unit, fontsize=8)
    for i, v in enumerate(vals):
        ax.annotate(f"{v:g}", (i, v), ha="center", va="bottom", fontsize=7)
    mfig.tight_layout()
    buf = io.BytesIO()
    mfig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()

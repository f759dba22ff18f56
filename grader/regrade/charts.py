"""The class report's charts: matplotlib figures as inline SVG, readable without colour.

Text stays text (``svg.fonttype = 'none'``): the browser draws it, it can be searched
and copied, and it scales. Series differ by hatching, marker shape and line style as
well as colour, and carry their numbers as labels. Each SVG gets its own id prefix,
so several can share one page without their clip paths and hatches colliding.
Only the object-oriented API is used (no pyplot): nothing global, no GUI backend.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from ..errors import GraderError
from ..manifest import direction

MISSING = "the class report draws its charts with matplotlib, which is not installed: pip install 'torch-grader[report]'"

# A colour-blind-safe pair (Okabe–Ito blue and orange), always with a hatch or marker too.
INK, BLUE, ORANGE, GREY = "#222222", "#0072B2", "#E69F00", "#777777"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one shape per tier
RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "hatch.color": INK,
    "hatch.linewidth": 0.8,
}


def require() -> None:
    """GraderError (one line saying what to install) unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise GraderError(MISSING) from None


def _figure(width: float, height: float):
    require()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig, prefix: str, label: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": prefix, **RC}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.S)  # its `*{...}` would style the whole page
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    text = text.replace("<svg ", f'<svg id="{prefix}-chart" class="chart" role="img" aria-label="{_attr(label)}" ', 1)
    return text


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def distribution(bins: Sequence[tuple[str, int]], max_score: float, mean: float) -> str:
    """Students per band of total score (equal bands from 0 to ``max_score``), counts on
    the bars, the mean as a labelled dashed line."""
    with _rc():
        fig = _figure(9.0, 3.2)
        ax = fig.add_subplot()
        labels = [b for b, _ in bins]
        counts = [n for _, n in bins]
        bars = ax.bar(range(len(bins)), counts, width=0.86, color="white", edgecolor=INK, hatch="///", linewidth=1)
        ax.bar_label(bars, labels=[str(n) if n else "" for n in counts], padding=2)
        ax.set_xticks(range(len(bins)), labels, rotation=45 if len(bins) > 12 else 0, ha="right" if len(bins) > 12 else "center")
        ax.set_xlabel(f"total score (of {number(max_score)})")
        ax.set_ylabel("students")
        top = max(counts + [1]) * 1.25
        ax.set_ylim(0, top)
        if max_score:
            at = mean / max_score * len(bins) - 0.5  # bands are equal: a score's place on the axis
            ax.axvline(at, linestyle="--", color=INK, linewidth=1)
            ax.annotate(f"mean {number(mean)}", (at, top), xytext=(4, -12), textcoords="offset points", fontsize=9)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, "dist", "Bar chart: students per band of total score, with the mean marked")


def tasks(rows: Sequence[tuple[str, float, float]]) -> str:
    """Per task (label, mean as % of its points, % of students with full marks), two hatched bars each."""
    with _rc():
        height = 1.0 + 0.42 * len(rows)
        fig = _figure(9.0, height)
        ax = fig.add_subplot()
        ys = range(len(rows))
        mean = ax.barh([y + 0.2 for y in ys], [r[1] for r in rows], height=0.38, color=BLUE, edgecolor=INK, hatch="//", label="mean score (% of the points)")
        full = ax.barh([y - 0.2 for y in ys], [r[2] for r in rows], height=0.38, color="white", edgecolor=INK, hatch="..", label="students with full marks (%)")
        ax.bar_label(mean, labels=[f"{r[1]:.0f}%" for r in rows], padding=3, fontsize=8)
        ax.bar_label(full, labels=[f"{r[2]:.0f}%" for r in rows], padding=3, fontsize=8)
        ax.set_yticks(list(ys), [r[0] for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, 112)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("%")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
        return _svg(fig, "tasks", "Bar chart: per task, the mean score and the share of students with full marks")


def leaderboard(points: Sequence[tuple[float, float, str]], baselines: Sequence[tuple[str, float, float]], metric: str) -> str:
    """Public against private score per student, one marker shape per private tier,
    the baselines as labelled dashed lines on both axes (lower is better, or higher for accuracy and macro_f1)."""
    with _rc():
        fig = _figure(9.0, 6.0)
        ax = fig.add_subplot()
        tiers = list(dict.fromkeys(t for _, _, t in points))
        for i, tier in enumerate(tiers):
            mine = [(x, y) for x, y, t in points if t == tier]
            ax.scatter([x for x, _ in mine], [y for _, y in mine], marker=MARKERS[i % len(MARKERS)], s=44,
                       facecolor="white" if i % 2 else BLUE, edgecolor=INK, linewidth=1, label=f"beats: {tier} ({len(mine)})", zorder=3)  # fmt: skip
        values = [v for x, y, _ in points for v in (x, y)] + [v for _, a, b in baselines for v in (a, b)]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        pad = (high - low) * 0.08 or 1.0
        low, high = low - pad, high + pad
        ax.plot([low, high], [low, high], linestyle=":", color=GREY, linewidth=1, zorder=1)
        ax.annotate("public = private", (high, high), xytext=(-4, -12), textcoords="offset points", ha="right", color=GREY, fontsize=8)
        for name, public, private in baselines:
            ax.axvline(public, linestyle="--", color=INK, linewidth=0.9, zorder=2)
            ax.axhline(private, linestyle="--", color=INK, linewidth=0.9, zorder=2)
            ax.annotate(f"{name} {number(public)}", (public, high), xytext=(3, -10), textcoords="offset points", fontsize=8, rotation=90, va="top")
            ax.annotate(f"{name} {number(private)}", (high, private), xytext=(-3, 3), textcoords="offset points", fontsize=8, ha="right")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.set_xlabel(f"public {metric} ({direction(metric)})")
        ax.set_ylabel(f"private {metric} ({direction(metric)})")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", frameon=True, fontsize=8, title="private split", title_fontsize=8)
        ax.set_title("Public against private score; dashed lines: the baselines", loc="left")
        return _svg(fig, "board", "Scatter chart: each student's public against private score, with the baselines drawn")


def _rc():
    require()
    import matplotlib

    return matplotlib.rc_context(RC)


def number(x: float) -> str:
    """As gradebook.csv writes a number: at most 4 decimals, no trailing zeros."""
    return f"{x:.4f}".rstrip("0").rstrip(".")

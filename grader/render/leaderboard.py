"""The leaderboard as a rich table (baselines marked where they fall), CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..competition.leaderboard import Entry
from ..manifest import Assignment, direction


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.5f}"


def table(assignment: Assignment, entries: list[Entry], console: Console, *, reveal: bool) -> None:
    comp = assignment.competition
    t = Table(title=f"{assignment.name} leaderboard: {comp.title} ({comp.metric}, {direction(comp.metric)})")
    t.add_column("#", justify="right")
    t.add_column("submission")
    t.add_column(f"public {comp.metric}", justify="right")
    t.add_column("beats (public)")
    if reveal:
        t.add_column(f"private {comp.metric}", justify="right")
        t.add_column("beats (private)")
    # best first; each baseline shows where it falls among the public scores
    marks = sorted(comp.baselines, key=lambda b: -b.public if comp.higher_is_better else b.public)
    rank = 0
    for e in entries:
        while marks and e.public is not None and not comp.better(e.public, marks[0].public):
            _baseline_row(t, marks.pop(0), reveal)
        if e.public is None:
            continue
        rank += 1
        row = [str(rank), escape(e.submission), _num(e.public), e.public_tier or ""]
        if reveal:
            row += [_num(e.private), e.private_tier or ""]
        t.add_row(*row)
    for b in marks:
        _baseline_row(t, b, reveal)
    for e in entries:
        if e.public is None:
            row = ["-", escape(e.submission), "", f"[red]{escape(e.problem[:120])}[/]"]
            t.add_row(*(row + (["", ""] if reveal else [])))
    console.print(t)
    if not reveal:
        console.print("[dim]private scores are sealed (--reveal-private shows them)[/]")


def _baseline_row(t: Table, baseline, reveal: bool) -> None:
    row = ["", f"[dim]— {escape(baseline.name)} baseline —[/]", f"[dim]{baseline.public:g}[/]", ""]
    t.add_row(*(row + ([f"[dim]{baseline.private:g}[/]", ""] if reveal else [])))


def to_csv(entries: list[Entry], *, reveal: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    header = ["rank", "submission", "public", "public_tier"] + (["private", "private_tier"] if reveal else []) + ["problem", "path"]
    w.writerow(header)
    rank = 0
    for e in entries:
        rank += e.public is not None
        row = [rank if e.public is not None else "", e.submission, _num(e.public), e.public_tier or ""]
        w.writerow(row + ([_num(e.private), e.private_tier or ""] if reveal else []) + [e.problem, e.path])
    return out.getvalue()


def to_json(assignment: Assignment, entries: list[Entry], *, reveal: bool) -> str:
    comp = assignment.competition
    baselines = [{"name": b.name, "public": b.public, **({"private": b.private} if reveal else {})} for b in comp.baselines]
    rows = []
    for e in entries:
        row = {"submission": e.submission, "path": e.path, "public": e.public, "public_tier": e.public_tier, "problem": e.problem}
        if reveal:
            row.update(private=e.private, private_tier=e.private_tier)
        rows.append(row)
    return json.dumps({"assignment": assignment.name, "metric": comp.metric, "baselines": baselines, "entries": rows}, indent=2)

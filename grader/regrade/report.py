"""The class report: one self-contained HTML page over what ``grade batch`` wrote.

It reads a batch folder — ``gradebook.csv`` and ``results/<student>.json`` — and
writes a page that opens from disk with no network: the score distribution, per
task the mean and the share of full marks, per check how many students failed it
and the most common failure message (worst first), the students to look at (edited
checks or workflow, forbidden APIs, grader errors, timeouts, refused submissions,
weak isolation), and for a competition each student's public against private score
with the baselines drawn. Charts are inline SVG (``charts``); no script runs.

Scores come from ``gradebook.csv`` as written, so every number on the page is the
gradebook's; the per-check detail comes from the result files. Both are read field
by field with defaults: a field this page does not know is ignored, a missing one
leaves its part of the page empty.
"""

from __future__ import annotations

import csv
import html
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import atomic
from ..errors import GraderError
from ..manifest import HIGHER_IS_BETTER, Assignment, direction
from . import charts
from .charts import number

GRADEBOOK = "gradebook.csv"
FIXED_COLUMNS = ("student", "total", "max")
TIMEOUT = re.compile(r"took longer than|did not finish within its time budget")
FORBIDDEN = re.compile(r"used an API its task forbids|may not use .*\(the whole task scores 0\)")
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class TaskStats:
    id: str
    title: str
    points: float
    mean: float
    full: int  # students with every point of the task
    students: int

    @property
    def full_share(self) -> float:
        return 100.0 * self.full / self.students if self.students else 0.0

    @property
    def mean_share(self) -> float:
        return 100.0 * self.mean / self.points if self.points else 0.0


@dataclass(frozen=True)
class CheckStats:
    task: str
    check: str
    failed: int
    ran: int
    message: str  # the most common failure message ("" when none failed)
    message_count: int  # how many of the failing students got (a message like) it


@dataclass(frozen=True)
class Flag:
    student: str
    kind: str  # "modified", "forbidden API", "grader error", "timeout", "refused", ...
    detail: str


@dataclass(frozen=True)
class Standing:
    student: str
    public: float
    private: float | None
    public_tier: str
    private_tier: str


@dataclass(frozen=True)
class ClassSummary:
    assignment: str
    title: str
    columns: tuple[str, ...]  # gradebook.csv's header, as written
    rows: tuple[dict[str, str], ...]  # gradebook.csv's rows, as written
    task_columns: tuple[str, ...]
    max_score: float
    bins: tuple[tuple[str, int], ...]
    tasks: tuple[TaskStats, ...]
    checks: tuple[CheckStats, ...]
    flags: tuple[Flag, ...]
    standings: tuple[Standing, ...] = ()
    metric: str = ""
    baselines: tuple[tuple[str, float, float], ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def totals(self) -> list[float]:
        return [_float(r.get("total")) for r in self.rows]


def _float(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def read_gradebook(out: Path) -> tuple[tuple[str, ...], tuple[dict[str, str], ...]]:
    path = Path(out) / GRADEBOOK
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = tuple(dict(r) for r in reader)
            columns = tuple(reader.fieldnames or ())
    except FileNotFoundError:
        raise GraderError(f"no {GRADEBOOK} in {out}: give the folder `grade batch` wrote (its --out)") from None
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        raise GraderError(f"{path} cannot be read: {e}") from None
    missing = [c for c in FIXED_COLUMNS if c not in columns]
    if missing:
        raise GraderError(f"{path} has no {', '.join(missing)} column: is it a gradebook `grade batch` wrote?")
    return columns, rows


def read_results(out: Path) -> dict[str, dict]:
    """student -> their result file's fields; unreadable files are left out."""
    found = {}
    for path in sorted((Path(out) / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found[str(data.get("student") or path.stem)] = data
    return found


def summarize(out: Path, assignment: Assignment | None = None) -> ClassSummary:
    """What the page shows, from the batch folder ``out`` (and the manifest, when given,
    for task titles and the competition's baselines)."""
    columns, rows = read_gradebook(out)
    results = read_results(out)
    task_columns = columns[1 : columns.index("total")]
    max_score = max((_float(r.get("max")) for r in rows), default=0.0)
    notes = []
    known = {t.id: t for t in assignment.tasks} if assignment is not None else {}
    seen = _tasks_in_results(results)
    tasks = []
    for task in task_columns:
        scores = [_float(r.get(task)) for r in rows]
        title, points = (known[task].title, known[task].points) if task in known else seen.get(task, (task, max(scores, default=0.0)))
        full = sum(1 for s in scores if points and s >= points - 1e-9)
        tasks.append(TaskStats(task, title, points, statistics.fmean(scores) if scores else 0.0, full, len(scores)))
    first = next(iter(results.values()), {})
    standings, metric = _standings(rows, results)
    baselines = ()
    if assignment is not None and assignment.competition is not None:
        baselines = tuple((b.name, b.public, b.private) for b in assignment.competition.baselines)
    elif standings:
        notes.append("the baselines are not drawn: the assignment's manifest was not found (give --root or --hidden)")
    missing = [r["student"] for r in rows if r.get("student") not in results]
    if missing:
        notes.append(f"no result file for {len(missing)} student(s) in the gradebook ({', '.join(missing[:5])}): their checks are not counted")
    return ClassSummary(
        assignment=str(first.get("assignment") or (assignment.name if assignment else "")),
        title=str(first.get("title") or (assignment.title if assignment else "")),
        columns=columns,
        rows=rows,
        task_columns=task_columns,
        max_score=max_score,
        bins=tuple(bands([_float(r.get("total")) for r in rows], max_score)),
        tasks=tuple(tasks),
        checks=tuple(check_stats(rows, results)),
        flags=tuple(flags(rows, results)),
        standings=standings,
        metric=metric,
        baselines=baselines,
        notes=tuple(notes),
    )


def _tasks_in_results(results: dict[str, dict]) -> dict[str, tuple[str, float]]:
    seen: dict[str, tuple[str, float]] = {}
    for data in results.values():
        for t in data.get("tasks") or []:
            if isinstance(t, dict) and "id" in t:
                seen.setdefault(str(t["id"]), (str(t.get("title") or t["id"]), _float(t.get("max_score"))))
    return seen


def bands(totals: list[float], max_score: float) -> list[tuple[str, int]]:
    """Students per band of total score: bands of 1 point up to 30 points (else 20
    equal bands), each closed below and open above, except the last, which holds
    full marks too."""
    top = max([max_score, *totals, 0.0])
    count = max(1, int(round(top))) if top <= 30 and float(top).is_integer() else 20
    width = (top / count) if top else 1.0
    out = []
    for i in range(count):
        low, high = i * width, (i + 1) * width
        last = i == count - 1
        n = sum(1 for t in totals if low - 1e-9 <= t < high - 1e-9 or (last and t >= high - 1e-9))
        out.append((f"{number(low)}–{number(high)}", n))
    return out


def _failure_key(message: str) -> str:
    """Messages that differ only in their numbers count as one."""
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", message)


def check_stats(rows: tuple[dict[str, str], ...], results: dict[str, dict]) -> list[CheckStats]:
    """Per check (its parameter variants together): students who failed it, students it
    ran for, and the most common first failure message; the most failed first."""
    in_book = {r.get("student") for r in rows}
    ran: dict[str, set] = {}
    failed: dict[str, dict[str, str]] = {}
    task_of: dict[str, str] = {}
    order: dict[str, int] = {}
    for student, data in results.items():
        if student not in in_book:
            continue
        for test in data.get("tests") or []:
            if not isinstance(test, dict) or test.get("status") in (None, "skip"):
                continue
            key = str(test.get("name") or test.get("nodeid") or "?").split("[", 1)[0]
            task_of.setdefault(key, str(test.get("task") or ""))
            order.setdefault(key, len(order))
            ran.setdefault(key, set()).add(student)
            if test.get("status") != "pass":
                failed.setdefault(key, {}).setdefault(student, str(test.get("message") or ""))
    out = []
    for key in ran:
        messages = list(failed.get(key, {}).values())
        groups = Counter(_failure_key(m) for m in messages)
        message, count = "", 0
        if groups:
            top, count = groups.most_common(1)[0]
            message = Counter(m for m in messages if _failure_key(m) == top).most_common(1)[0][0]
        out.append(CheckStats(task_of[key], key, len(messages), len(ran[key]), message, count))
    return sorted(out, key=lambda c: (-c.failed, order[c.check]))


def flags(rows: tuple[dict[str, str], ...], results: dict[str, dict]) -> list[Flag]:
    """Every reason to look at a student's result by hand, in gradebook order."""
    out = []
    for row in rows:
        student = row.get("student", "")
        data = results.get(student, {})
        if row.get("refused") or data.get("refused"):
            out.append(Flag(student, "refused", row.get("refused") or str(data.get("refused"))))
        if row.get("grader_error") or data.get("grader_error"):
            out.append(Flag(student, "grader error", row.get("grader_error") or str(data.get("grader_error"))))
        if row.get("modified"):
            out.append(Flag(student, "modified", f"edited (ignored for scoring): {row['modified']}"))
        tests = [t for t in data.get("tests") or [] if isinstance(t, dict)]
        forbidden = sorted({str(t.get("task") or "?") for t in tests if t.get("status") != "pass" and (
            t.get("violation") or str(t.get("nodeid", "")).startswith("static::") or FORBIDDEN.search(str(t.get("message") or "")))})  # fmt: skip
        if forbidden:
            out.append(Flag(student, "forbidden API", f"task(s) scored 0: {', '.join(forbidden)}"))
        slow = [str(t.get("message")) for t in tests if t.get("status") != "pass" and TIMEOUT.search(str(t.get("message") or ""))]
        if slow:
            out.append(Flag(student, "timeout", slow[0] + (f" (and {len(slow) - 1} more check(s) stopped by a time limit)" if len(slow) > 1 else "")))
        for error in data.get("errors") or []:
            out.append(Flag(student, "check not loaded", str(error)))
        if row.get("weak_isolation_accepted") == "yes" or data.get("weak_isolation_accepted"):
            out.append(Flag(student, "weak isolation", f"graded below min_isolation, accepted: {row.get('isolation') or data.get('isolation', '')}"))
        competition = data.get("competition") if isinstance(data.get("competition"), dict) else {}
        if competition.get("flag"):
            out.append(Flag(student, "predictions", str(competition["flag"])))
    return out


def _standings(rows, results) -> tuple[tuple[Standing, ...], str]:
    out, metric = [], ""
    for row in rows:
        comp = results.get(row.get("student", ""), {}).get("competition")
        if not isinstance(comp, dict) or comp.get("public") is None:
            continue
        metric = metric or str(comp.get("metric") or "")
        private = comp.get("private")
        out.append(Standing(row["student"], float(comp["public"]), None if private is None else float(private),
                            str(comp.get("public_tier") or "none"), str(comp.get("private_tier") or ("sealed" if private is None else "none"))))  # fmt: skip
    higher = metric in HIGHER_IS_BETTER  # the best first
    return tuple(sorted(out, key=lambda s: (-s.public if higher else s.public, s.student))), metric


# --- the page ------------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1b1b1b;
       background: #fff; margin: 0 auto; max-width: 1100px; padding: 24px 28px 64px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 36px 0 8px; border-bottom: 2px solid #1b1b1b; }
p.lead { margin: 0 0 12px; color: #444; } .note { color: #6b4e00; }
ul.facts { display: flex; flex-wrap: wrap; gap: 10px 28px; list-style: none; padding: 0; margin: 12px 0; }
ul.facts li b { font-size: 1.3em; display: block; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #d0d0d0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.msg { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; word-break: break-word; }
.tag { display: inline-block; border: 1.5px solid #1b1b1b; border-radius: 3px; padding: 0 5px; font-size: 0.8em;
       font-weight: 600; text-transform: uppercase; letter-spacing: 0.03em; white-space: nowrap; }
svg.chart { width: 100%; max-width: 900px; height: auto; display: block; margin: 8px 0; }
.wide { overflow-x: auto; }
#gradebook-table td.msg { min-width: 12em; overflow-wrap: anywhere; }
#gradebook-table th, #gradebook-table td { padding: 4px 6px; }
svg.chart * { stroke-linejoin: round; stroke-linecap: butt; }
details summary { cursor: pointer; margin: 8px 0; }
"""


def render(summary: ClassSummary) -> str:
    """The page, as one HTML string: styles inline, charts inline, nothing to fetch."""
    e = html.escape
    n = len(summary.rows)
    totals = summary.totals
    mean = statistics.fmean(totals) if totals else 0.0
    full = sum(1 for t in totals if summary.max_score and t >= summary.max_score - 1e-9)
    flagged = len({f.student for f in summary.flags})
    levels = Counter(r.get("isolation") or "none recorded" for r in summary.rows)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # nothing on this page may load anything: no scripts, and no fetches
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{e(summary.assignment)} class report</title><style>{CSS}</style></head><body>",
        f"<h1>{e(summary.title or summary.assignment)}</h1>",
        f'<p class="lead">Class report for <b>{e(summary.assignment)}</b>: {n} students in {GRADEBOOK}.</p>',
        '<ul class="facts" id="facts">',
        f'<li>students<b data-value="students">{n}</b></li>',
        f'<li>mean total<b data-value="mean">{number(mean)} / {number(summary.max_score)}</b></li>',
        f'<li>median total<b data-value="median">{number(statistics.median(totals)) if totals else "–"}</b></li>',
        f'<li>full marks<b data-value="full">{full}</b></li>',
        f'<li>flagged<b data-value="flagged">{flagged}</b></li>',
        "</ul>",
        "<p>Isolation the workers reached: " + e(", ".join(f"{level} ({k})" for level, k in levels.most_common())) + "</p>",
    ]
    parts += [f'<p class="note">Note: {e(note)}</p>' for note in summary.notes]
    parts += _distribution(summary, mean)
    parts += _tasks(summary)
    parts += _checks(summary)
    parts += _flags(summary)
    if summary.standings:
        parts += _competition(summary)
    parts += _gradebook(summary)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _distribution(summary: ClassSummary, mean: float) -> list[str]:
    rows = "".join(f'<tr><td>{html.escape(band)}</td><td class="n">{k}</td></tr>' for band, k in summary.bins)
    return [
        '<h2 id="distribution">Score distribution</h2>',
        charts.distribution(summary.bins, summary.max_score, mean),
        '<details><summary>As a table</summary><table id="bands"><thead><tr><th>total score</th><th class="n">students</th></tr></thead>',
        f"<tbody>{rows}</tbody></table></details>",
    ]


def _tasks(summary: ClassSummary) -> list[str]:
    if not summary.tasks:
        return []
    chart = charts.tasks([(t.title, t.mean_share, t.full_share) for t in summary.tasks])
    rows = "".join(
        f'<tr data-task="{html.escape(t.id)}"><td>{html.escape(t.title)}<br><small>{html.escape(t.id)}</small></td>'
        f'<td class="n">{number(t.points)}</td><td class="n" data-value="mean">{number(t.mean)}</td>'
        f'<td class="n">{t.mean_share:.1f}%</td><td class="n" data-value="full">{t.full} of {t.students}</td>'
        f'<td class="n">{t.full_share:.1f}%</td></tr>'
        for t in summary.tasks
    )
    return [
        '<h2 id="tasks">Tasks</h2>',
        chart,
        '<table id="task-table"><thead><tr><th>task</th><th class="n">points</th><th class="n">mean</th><th class="n">mean, %</th>'
        '<th class="n">full marks</th><th class="n">full marks, %</th></tr></thead>',
        f"<tbody>{rows}</tbody></table>",
    ]


def _checks(summary: ClassSummary) -> list[str]:
    rows = "".join(
        f'<tr data-check="{html.escape(c.check)}"><td>{html.escape(c.task)}</td><td>{html.escape(c.check)}</td>'
        f'<td class="n" data-value="failed">{c.failed}</td><td class="n" data-value="ran">{c.ran}</td>'
        f'<td class="msg">{html.escape(_clip(c.message))}</td>'
        f'<td class="n">{f"{c.message_count} of {c.failed}" if c.failed else ""}</td></tr>'
        for c in summary.checks
    )
    return [
        '<h2 id="checks">Checks, most failed first</h2>',
        "<p>Parameter variants of a check count once per student; messages that differ only in their numbers count as one.</p>",
        '<table id="check-table"><thead><tr><th>task</th><th>check</th><th class="n">failed</th><th class="n">of</th>'
        "<th>most common failure message</th><th class=\"n\">students with it</th></tr></thead>",
        f"<tbody>{rows}</tbody></table>",
    ]


def _flags(summary: ClassSummary) -> list[str]:
    if not summary.flags:
        return ['<h2 id="flagged">Students to look at</h2>', '<p id="flag-table">None: no edits, forbidden APIs, grader errors, timeouts or refusals.</p>']
    kinds = Counter(f.kind for f in summary.flags)
    rows = "".join(
        f'<tr data-student="{html.escape(f.student)}" data-kind="{html.escape(f.kind)}"><td>{html.escape(f.student)}</td>'
        f'<td><span class="tag">{html.escape(f.kind)}</span></td><td class="msg">{html.escape(_clip(f.detail))}</td></tr>'
        for f in summary.flags
    )
    return [
        '<h2 id="flagged">Students to look at</h2>',
        "<p>" + html.escape(", ".join(f"{kind}: {k}" for kind, k in kinds.most_common())) + "</p>",
        '<table id="flag-table"><thead><tr><th>student</th><th>why</th><th>detail</th></tr></thead>',
        f"<tbody>{rows}</tbody></table>",
    ]


def _competition(summary: ClassSummary) -> list[str]:
    scored = [s for s in summary.standings if s.private is not None]
    parts = ['<h2 id="competition">Leaderboard: public against private</h2>']
    if scored:
        parts.append(charts.leaderboard([(s.public, s.private, s.private_tier) for s in scored], summary.baselines, summary.metric))
    else:
        parts.append("<p>The private scores are sealed in these results: only the public ones are listed.</p>")
    if summary.baselines:
        parts.append("<p>Baselines (" + html.escape(summary.metric) + ", " + direction(summary.metric) + "): " + html.escape(
            "; ".join(f"{name}: public {number(a)}, private {number(b)}" for name, a, b in summary.baselines)) + "</p>")  # fmt: skip
    rows = "".join(
        f'<tr data-student="{html.escape(s.student)}"><td>{html.escape(s.student)}</td><td class="n">{number(s.public)}</td>'
        f'<td>{html.escape(s.public_tier)}</td><td class="n">{"sealed" if s.private is None else number(s.private)}</td>'
        f"<td>{html.escape(s.private_tier)}</td></tr>"
        for s in summary.standings
    )
    parts += [
        f'<table id="standings"><thead><tr><th>student</th><th class="n">public {html.escape(summary.metric)}</th><th>beats (public)</th>'
        f'<th class="n">private {html.escape(summary.metric)}</th><th>beats (private)</th></tr></thead><tbody>{rows}</tbody></table>',
    ]
    return parts


def _gradebook(summary: ClassSummary) -> list[str]:
    """gradebook.csv's rows: scores one column each; the other columns, where not empty,
    together as ``column: value`` in the last."""
    scored = (*summary.task_columns, "total", "max")
    shown = ("student", *scored, "isolation")
    others = [c for c in summary.columns if c not in shown]
    head = "".join(
        f'<th{" class=n" if c in scored else ""}>{html.escape(c).replace("_", "_<wbr>")}</th>' for c in shown if c in summary.columns
    )
    body = []
    for r in summary.rows:
        cells = "".join(f'<td{" class=n" if c in scored else ""}>{html.escape(r.get(c) or "")}</td>' for c in shown if c in summary.columns)
        notes = "<br>".join(f"<b>{html.escape(c)}</b>: {html.escape(r[c])}" for c in others if r.get(c))
        body.append(f'<tr data-student="{html.escape(r.get("student", ""))}">{cells}<td class="msg">{notes}</td></tr>')
    return [
        f'<h2 id="gradebook">Gradebook</h2><p>{GRADEBOOK} as written, one row per student '
        f"(its {html.escape(', '.join(others))} columns, where not empty, under “other”).</p>",
        f'<div class="wide"><table id="gradebook-table"><thead><tr>{head}<th>other</th></tr></thead><tbody>{"".join(body)}</tbody></table></div>',
    ]


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def write(out: Path, target: Path, assignment: Assignment | None = None) -> Path:
    """Writes the report for batch folder ``out`` to ``target`` (atomically) and returns it."""
    charts.require()  # before reading anything: the one thing that can be missing
    page = render(summarize(out, assignment))
    target = Path(target)
    if target.is_dir():
        raise GraderError(f"{target} is a folder; give the report a file name, e.g. {target / 'report.html'}")
    atomic.write_text(target, page)
    return target

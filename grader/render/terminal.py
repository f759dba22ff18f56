"""The default view: per task its points, then one line per check (why, for a failure)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape

from .. import policy
from ..results import Report
from . import notes

ICONS = {"pass": "[green]✓[/]", "fail": "[red]✗[/]", "error": "[magenta]![/]", "skip": "[dim]-[/]"}


def _pts(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def render(report: Report, console: Console, *, show_output: bool = True) -> None:
    console.print(f"[bold]{escape(report.title)}[/]  [dim]({escape(report.assignment)}: {escape(report.submission)})[/]")
    _trust(report, console)
    if report.refused:  # nothing was graded: the reason, once, not once per task
        console.print(f"\n[bold red]✗ {escape(report.refused)}[/]")
        _score(report, console)
        return
    for task in report.tasks:
        colour = "green" if task.passed else ("yellow" if task.score > 0 else "red")
        ran = [c for c in task.checks if c.status != "skip"]
        passed = sum(c.status == "pass" for c in ran)
        if task.checks and not ran:  # skipped on purpose (a sealed leaderboard): not a failure
            console.print(f"\n[bold dim]-/{_pts(task.points)}[/]  [bold]{escape(task.title)}[/]  [dim]not scored yet[/]")
        else:
            console.print(
                f"\n[bold {colour}]{_pts(task.score)}/{_pts(task.points)}[/]  [bold]{escape(task.title)}[/]  "
                f"[dim]{passed}/{len(ran)} checks passed[/]"
            )
        if not task.checks:
            console.print("   [dim]no checks ran for this task[/]")
        for c in task.checks:
            if c.status == "skip":
                continue
            hidden = " [dim](hidden)[/]" if c.visibility == "hidden" else ""
            console.print(f"   {ICONS.get(c.status, '?')} {escape(c.name)}{hidden} [dim]{c.duration:.2f}s[/]")
            if c.status != "pass":
                console.print(f"       {escape(c.message)}", style="red" if c.status == "fail" else "magenta")
                if show_output and c.output.strip():
                    console.print(f"       [dim]your output:[/] {escape(c.output.strip()[-800:])}")
        skipped = Counter(c.message for c in task.checks if c.status == "skip")
        for reason, n in skipped.items():
            console.print(f"   [dim]- {n} skipped: {escape(reason)}[/]")
    if report.competition is not None:
        _competition(report, console)
    for err in report.errors:
        console.print(f"\n[magenta]! {escape(err)}[/]")
    _score(report, console)


def _score(report: Report, console: Console) -> None:
    colour = "green" if report.all_passed else "red"
    console.print(
        f"\n[bold {colour}]Score: {_pts(report.score)}/{_pts(report.max_score)}[/]   "
        f"[dim]hidden checks: {escape(report.hidden)} · isolation: {escape(report.isolation)} · backend: {escape(report.backend or '?')} · {report.duration:.1f}s[/]"
    )


def _trust(report: Report, console: Console) -> None:
    """First, before any score: how far this run can be trusted."""
    if policy.below_top(report.isolation):
        console.print(f"[bold yellow]⚠ {escape(notes.isolation_line(report))}[/]")
    else:
        console.print(f"[dim]{escape(notes.isolation_line(report))}[/]")
    if report.weak_isolation_accepted:
        console.print(f"[yellow]⚠ {escape(notes.accepted_line(report))}[/]")
    if report.modified:
        console.print(f"[yellow]⚠ {escape(notes.modified_line(report))}[/]")
    if report.environment:
        console.print(f"[yellow]⚠ {escape(notes.environment_line(report))}[/]")


def _competition(report: Report, console: Console) -> None:
    comp = report.competition
    console.print()
    if comp.public is None:
        console.print(f"[bold]Leaderboard[/]  [dim]{escape(comp.problem)}[/]")
    else:
        line = f"[bold]Leaderboard[/]  public {comp.metric} [bold]{comp.public:.4f}[/] (beats: {escape(comp.public_tier)})"
        if comp.private is not None:
            line += f" · private {comp.metric} [bold]{comp.private:.4f}[/] (beats: {escape(comp.private_tier)})"
        elif comp.private_sealed:
            line += " · private: sealed"
        console.print(line + f"  [dim]scored: the {comp.source} predictions[/]")
    if comp.run_seconds is not None:
        cpu = f", {comp.run_cpu_seconds:.1f}s of CPU of its {comp.cpu_budget:g}s budget" if comp.run_cpu_seconds is not None else ""
        console.print(f"   [dim]training run: {comp.run_seconds:.1f}s{cpu}[/]")
    if comp.flag:
        console.print(f"   [yellow]flagged: {escape(comp.flag)}[/]")

"""The live line during a training run: in a terminal only, never in piped output,
with NO_COLOR, into a file or in another format. A forced-terminal console stands in
for a real TTY."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from grader.commands import grade as grade_verb
from grader.competition.budget import Progress, last_lines
from grader.render.live import ERASE, LiveLine
from tests.test_competition import LINEAR, make_course

SLOW = "print('epoch 1: loss 9.5', flush=True)\nimport time\ntime.sleep(2)\n" + LINEAR


def _terminal(**kw) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, color_system=None, width=100, **kw), buffer


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("live"))
    folder = root / "slow"
    folder.mkdir()
    (folder / "train.py").write_text(SLOW)
    return root, folder


def _grade(course, console, **kw) -> int:
    root, folder = course
    options = dict(submission=folder, reference=False, fmt="terminal", output=None, hidden=None, public_only=False, root=root, isolate=True)
    options.update(kw)
    return grade_verb.run("houses", console=console, **options)


def test_a_terminal_sees_the_budget_and_the_last_line_while_it_runs(course):
    console, buffer = _terminal()
    assert _grade(course, console) == 0
    shown = buffer.getvalue()
    live = [part for part in shown.split(ERASE) if part.startswith("⏳")]
    assert live, shown[:500]
    assert all(" s of 30 s CPU · " in part and " s elapsed" in part for part in live)
    assert any(part.endswith("· epoch 1: loss 9.5") for part in live)
    report = shown.rsplit(ERASE, 1)[1]  # erased before the report is printed
    assert "⏳" not in report and "Score: 7/11" in report, report  # the private split stays sealed


@pytest.mark.parametrize("where", ["piped", "no_color", "json", "to_file"])
def test_nothing_extra_when_nobody_watches(course, where, monkeypatch, tmp_path):
    if where == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    console, buffer = (Console(file=io.StringIO(), width=100), None) if where == "piped" else _terminal()
    buffer = buffer or console.file
    kw = {"fmt": "json"} if where == "json" else {"output": tmp_path / "r.txt"} if where == "to_file" else {}
    if where == "json":
        import contextlib

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            _grade(course, console, **kw)
        assert json.loads(out.getvalue())["score"] == 7  # stdout is the JSON and nothing else
    else:
        _grade(course, console, **kw)
    assert "⏳" not in buffer.getvalue() and ERASE not in buffer.getvalue()


def test_the_line_fits_the_terminal():
    console, _ = _terminal()
    line = LiveLine(console).text(Progress("covid.py", 31.2, 14.25, 120, "x" * 300))
    assert line.startswith("⏳ covid.py  14.2 s of 120 s CPU · 31 s elapsed · xxx") and len(line) == 99 and line.endswith("…")


def test_the_last_line_is_a_progress_bars_latest_state(tmp_path):
    log = tmp_path / "output.log"
    log.write_bytes(b"Saving model\n\x1b[32mEpoch [1/600]:  10%|#  | 1/9\rEpoch [1/600]: 100%|###| 9/9 [00:00]\r\n\n")
    assert last_lines(str(log)) == ["Epoch [1/600]: 100%|###| 9/9 [00:00]"]
    assert last_lines(str(log), 3)[0] == "Saving model"
    assert last_lines(str(tmp_path / "none.log")) == []

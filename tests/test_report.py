"""The class report: numbers that are the gradebook's, a page that needs no network, flags."""

from __future__ import annotations

import csv
import json
import re
import shutil
import statistics
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import manifest
from grader.regrade import batch
from grader.cli import main
from grader.regrade import charts, report
from tests import browser
from tests.classmaker import make_class
from tests.conftest import REPO

matplotlib = pytest.importorskip("matplotlib", reason="the class report needs the `report` extra (matplotlib)")


class Tables(HTMLParser):
    """Every table of a page by id: its rows as lists of cell texts (and each row's attributes)."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self.values: dict[str, str] = {}  # data-value of the facts
        self._table = None
        self._row = None
        self._cell = None
        self._value = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = (attrs, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")
        if tag == "b" and "data-value" in attrs:
            self._value = (attrs["data-value"], [])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "b" and self._value is not None:
            self.values[self._value[0]] = "".join(self._value[1]).strip()
            self._value = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._value is not None:
            self._value[1].append(data)

    def body(self, table: str) -> list[tuple[dict, list[str]]]:
        return self.tables[table][1:]  # less the header row


def _hw2_course(tmp_path: Path) -> Path:
    """hw2 with a 2 s call limit, so the class's hanging file costs little."""
    root = tmp_path / "course"
    shutil.copytree(REPO / "assignments" / "hw2", root / "assignments" / "hw2")
    shutil.copytree(REPO / "reference" / "hw2", root / "reference" / "hw2")
    toml = root / "assignments" / "hw2" / "assignment.toml"
    toml.write_text(toml.read_text().replace("call_timeout = 10", "call_timeout = 2"))
    return root


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A real `grade batch --report` over one submission of each kind, and more."""
    tmp = tmp_path_factory.mktemp("class")
    root = _hw2_course(tmp)
    kinds = make_class(tmp / "submissions", 14, root=root)
    out = tmp / "grades"
    result = CliRunner().invoke(
        main, ["batch", "hw2", str(tmp / "submissions"), "--root", str(root), "-j", "2", "--out", str(out), "--report", str(tmp / "class.html")]
    )
    assert result.exit_code == 0, result.output
    assert "class report in" in result.output
    return root, out, tmp / "class.html", kinds


def _gradebook(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_numbers_are_the_gradebooks(graded):
    root, out, page, _ = graded
    hw2 = manifest.find("hw2", root)
    rows = _gradebook(out)
    seen = Tables(page.read_text())
    num = charts.number
    totals = [float(r["total"]) for r in rows]
    assert seen.values["students"] == str(len(rows))
    assert seen.values["mean"] == f"{num(statistics.fmean(totals))} / {num(hw2.max_score)}"
    assert seen.values["median"] == num(statistics.median(totals))
    assert seen.values["full"] == str(sum(t == hw2.max_score for t in totals))
    # every gradebook row, its scores as written
    book = {attrs["data-student"]: cells for attrs, cells in seen.body("gradebook-table")}
    assert set(book) == {r["student"] for r in rows}
    for r in rows:
        cells = book[r["student"]]
        assert cells[: len(hw2.tasks) + 3] == [r["student"], *(r[t.id] for t in hw2.tasks), r["total"], r["max"]]
        for column in ("modified", "grader_error", "refused"):
            if r[column]:
                assert f"{column}: {r[column]}" in cells[-1]
    # per task: the mean of the column, and how many have every point
    tasks = {attrs["data-task"]: cells for attrs, cells in seen.body("task-table")}
    for t in hw2.tasks:
        column = [float(r[t.id]) for r in rows]
        full = sum(s == t.points for s in column)
        assert tasks[t.id][2] == num(statistics.fmean(column)), t.id
        assert tasks[t.id][4] == f"{full} of {len(rows)}", t.id
        assert tasks[t.id][5] == f"{100 * full / len(rows):.1f}%"
    # the bands hold every student once, each where their total falls
    bands = [(cells[0], int(cells[1])) for _, cells in seen.body("bands")]
    assert sum(k for _, k in bands) == len(rows)
    for label, k in bands:
        low, high = (float(x) for x in label.split("–"))
        last = label == bands[-1][0]
        assert k == sum(low <= t < high or (last and t == high) for t in totals), label


def test_checks_are_counted_as_the_batch_summary_counts_them(graded):
    _, out, page, _ = graded
    seen = Tables(page.read_text())
    shown = [(cells[1], int(cells[2]), int(cells[3])) for _, cells in seen.body("check-table")]
    # (a check named alike in several tasks, as "submission refused" is, is one row in both)
    students = [r["student"] for r in _gradebook(out)]
    assert sorted(shown) == sorted((check, failed, ran) for _task, check, failed, ran in batch.summary(out, students))
    failed = [row[1] for row in shown]
    assert failed == sorted(failed, reverse=True)  # worst first
    assert failed[0] > 0


def test_most_common_failure_message_is_shown(graded):
    _, out, page, _ = graded
    results = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    seen = Tables(page.read_text())
    for _, cells in seen.body("check-table"):
        check, failed, message, count = cells[1], int(cells[2]), cells[4], cells[5]
        if not failed:
            assert message == "" and count == ""
            continue
        firsts = [next(t["message"] for t in r["tests"] if t["name"].split("[")[0] == check and t["status"] not in ("pass", "skip"))
                  for r in results if any(t["name"].split("[")[0] == check and t["status"] not in ("pass", "skip") for t in r.get("tests", []))]  # fmt: skip
        assert len(firsts) == failed
        k = int(count.split(" of ")[0])
        assert count == f"{k} of {failed}" and sum(m[:200] == message[:200] for m in firsts) >= 1
        assert k >= max(firsts.count(m) for m in firsts)  # no single message is more common


def test_students_to_look_at_are_flagged_with_why(graded):
    _, _, page, kinds = graded
    seen = Tables(page.read_text())
    flagged: dict[str, set] = {}
    for attrs, _cells in seen.body("flag-table"):
        flagged.setdefault(attrs["data-student"], set()).add(attrs["data-kind"])
    expected = {"modified_check": "modified", "modified_workflow": "modified", "forbidden": "forbidden API",
                "slow_import": "timeout", "linked": "refused", "broken_notebook": "refused"}  # fmt: skip
    for student, kind in kinds.items():
        if kind in expected:
            assert expected[kind] in flagged.get(student, set()), (student, kind, flagged.get(student))
        elif kind in ("full", "stubs", "partial", "notebook"):
            assert student not in flagged, (student, kind, flagged[student])


def test_the_page_needs_nothing_from_outside(graded):
    _, _, page, _ = graded
    text = page.read_text()
    assert "<script" not in text and "<link" not in text and "<img" not in text and "@import" not in text
    assert "default-src 'none'" in text  # and the browser would refuse a fetch anyway
    for attr, value in re.findall(r'\b(src|href)="([^"]*)"', text):
        assert value.startswith("#"), (attr, value)
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", text))
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # several SVGs on one page: no clip path or hatch shared by accident


def test_charts_do_not_rely_on_colour(graded):
    _, _, page, _ = graded
    text = page.read_text()
    svgs = re.findall(r"<svg.*?</svg>", text, flags=re.S)
    assert len(svgs) == 2  # distribution, tasks (no competition here)
    for svg in svgs:
        assert "<text" in svg  # labels stay text
        assert 'aria-label="' in svg
    distribution, tasks = svgs
    assert "mean " in distribution
    assert len(set(re.findall(r'<pattern id="([^"]+)"', tasks))) >= 2  # two series, two hatchings
    assert "mean score" in tasks and "full marks" in tasks  # a legend in words


def test_report_verb_writes_the_same_page(graded, tmp_path):
    root, out, page, _ = graded
    target = tmp_path / "again.html"
    result = CliRunner().invoke(main, ["report", str(out), "--root", str(root), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == page.read_text()


def test_report_of_a_folder_that_is_no_batch_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: no gradebook.csv in {tmp_path}: give the folder `grade batch` wrote (its --out)"


def test_without_matplotlib_one_line_and_nothing_graded(graded, tmp_path, monkeypatch):
    root, out, _, _ = graded
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails as if not installed
    result = CliRunner().invoke(main, ["report", str(out), "--root", str(root), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {charts.MISSING}"
    assert not (tmp_path / "r.html").exists()
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.py").write_text("x = 1\n")
    result = CliRunner().invoke(main, ["batch", "hw2", str(folder), "--root", str(root), "--out", str(tmp_path / "g"), "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and result.output.strip() == f"Error: {charts.MISSING}"
    assert not (tmp_path / "g" / "gradebook.csv").exists()  # said before any grading


def test_fields_it_does_not_know_are_ignored_and_missing_ones_tolerated(tmp_path):
    """A later batch may add fields (a shard, the definition's hash) or columns."""
    hw4 = manifest.find("hw4", REPO)
    out = tmp_path / "grades"
    (out / "results").mkdir(parents=True)
    full = {"student": "ann", "assignment": "hw4", "score": 8, "shard": "2/4", "definition_hash": "ab12",
            "tasks": [{"id": t.id, "title": t.title, "score": t.points, "max_score": t.points} for t in hw4.tasks],
            "tests": [{"name": "test_x[1]", "task": "standardize", "status": "pass", "extra": 1}]}  # fmt: skip
    (out / "results" / "ann.json").write_text(json.dumps(full))
    (out / "results" / "bob.json").write_text(json.dumps({"student": "bob", "grader_error": "it broke"}))  # few fields
    (out / "results" / "cid.json").write_text("{half a file")
    tasks = ",".join(t.id for t in hw4.tasks)
    (out / "gradebook.csv").write_text(
        f"student,{tasks},total,max,modified,grader_error,isolation,weak_isolation_accepted,refused,shard\n"
        "ann,2,3,3,8,8,,,namespaces,,,2/4\nbob,0,0,0,0,8,,it broke,,,,2/4\n"
    )  # a column this page does not know, last
    summary = report.summarize(out, None)
    assert summary.task_columns == tuple(t.id for t in hw4.tasks)
    assert [t.points for t in summary.tasks] == [t.points for t in hw4.tasks]  # from the result files
    assert [(f.student, f.kind) for f in summary.flags] == [("bob", "grader error")]
    page = report.render(summary)
    seen = Tables(page)
    assert any("shard: 2/4" in cells[-1] for _, cells in seen.body("gradebook-table"))


# --- a competition: public against private, the baselines drawn ---------------------


def test_competition_standings_and_baselines(tmp_path):
    from tests.test_competition import LINEAR, MEAN, make_course

    root = make_course(tmp_path / "course")
    folder = tmp_path / "class"
    folder.mkdir()
    noisy = LINEAR.replace("pred = np.c_[xt, np.ones(len(xt))] @ w", "pred = np.c_[xt, np.ones(len(xt))] @ w + np.random.default_rng(1).normal(0, 2, len(xt))")
    for student, source in {"amy": LINEAR, "bo": MEAN, "cy": noisy, "di": "raise SystemExit(3)\n"}.items():
        (folder / student).mkdir()
        (folder / student / "train.py").write_text(textwrap.dedent(source))
    out = tmp_path / "grades"
    result = CliRunner().invoke(main, ["batch", "houses", str(folder), "--root", str(root), "-j", "2", "--out", str(out), "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r.html").read_text()
    seen = Tables(text)
    results = {p.stem: json.loads(p.read_text())["competition"] for p in (out / "results").glob("*.json")}
    standings = {attrs["data-student"]: cells for attrs, cells in seen.body("standings")}
    assert set(standings) == {s for s, c in results.items() if c["public"] is not None} == {"amy", "bo", "cy"}
    for student, cells in standings.items():
        comp = results[student]
        assert cells[1:] == [charts.number(comp["public"]), comp["public_tier"], charts.number(comp["private"]), comp["private_tier"]]
    publics = [float(cells[1]) for cells in standings.values()]
    assert publics == sorted(publics)
    board = re.findall(r'<svg id="board-chart".*?</svg>', text, flags=re.S)
    assert board, "no leaderboard chart"
    houses = manifest.find("houses", root)
    for b in houses.competition.baselines:  # each baseline named on both axes
        assert f">{b.name} {charts.number(b.public)}<" in board[0] and f">{b.name} {charts.number(b.private)}<" in board[0]
        assert len(re.findall(rf">{b.name} [-\d.e]+<", board[0])) == 2


# --- in a real browser ---------------------------------------------------------------


@pytest.mark.skipif(browser.find() is None, reason="no Chromium here (Debian: apt-get install -y chromium)")
def test_report_loads_in_chromium_with_no_console_errors(graded):
    _, _, page, kinds = graded
    seen = browser.visit(page, screenshot=True)
    assert seen.problems == []
    assert seen.requests == [page.resolve().as_uri()]  # the page itself, nothing else
    assert seen.title == "hw2 class report"
    assert "Score distribution" in seen.text and "Students to look at" in seen.text
    assert all(student in seen.text for student in kinds)
    assert seen.screenshot.startswith(b"\x89PNG")


@pytest.mark.skipif(browser.find() is None, reason="no Chromium here (Debian: apt-get install -y chromium)")
def test_the_browser_check_sees_a_console_error(tmp_path):
    """The check above can fail: a page with a script error and a fetch is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="missing.png"><script>console.error("boom"); nope();</script></body></html>')
    seen = browser.visit(bad)
    assert any("boom" in c for c in seen.console)
    assert seen.exceptions
    assert any(r.endswith("missing.png") for r in seen.requests)


def test_report_of_merged_shards_is_the_whole_class(tmp_path):
    stub, solution = (REPO / "assignments" / "hw4" / "normalization.py").read_text(), (REPO / "reference" / "hw4" / "normalization.py").read_text()
    folder = tmp_path / "class"
    folder.mkdir()
    for student, text in {"ann": solution, "bob": stub, "cid": solution}.items():
        (folder / f"{student}.py").write_text(text)
    runner = CliRunner()
    for i in (0, 1):
        result = runner.invoke(main, ["batch", "hw4", str(folder), "--root", str(REPO), "--shard", f"{i}/2", "--out", str(tmp_path / f"shard-{i}")])
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["gradebook", "merge", str(tmp_path / "merged"), str(tmp_path / "shard-0"), str(tmp_path / "shard-1")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["report", str(tmp_path / "merged"), "--root", str(REPO)])
    assert result.exit_code == 0, result.output
    seen = Tables((tmp_path / "merged" / "report.html").read_text())
    rows = _gradebook(tmp_path / "merged")
    assert seen.values["students"] == "3" and sorted(r["student"] for r in rows) == ["ann", "bob", "cid"]
    assert {a["data-student"]: c[4] for a, c in seen.body("gradebook-table")} == {r["student"]: r["total"] for r in rows}

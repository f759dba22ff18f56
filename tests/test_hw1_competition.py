"""hw1 part B as shipped: the data, the labels' secrecy, the starter, the reference, the leaderboard."""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from click.testing import CliRunner

from grader import manifest
from grader.cli import main
from grader.competition.leaderboard import standings
from grader.grading import grade
from tests.conftest import REPO

HW1 = REPO / "assignments" / "hw1"
LABELS = REPO / "reference" / "hw1" / "data" / "covid.test.labels.csv"


@pytest.fixture(scope="module")
def hw1_full(tmp_path_factory):
    """hw1 as shipped, but with a training budget no loaded machine runs out of: these
    tests are about scores, not speed (benchmarks/ times the run)."""
    root = tmp_path_factory.mktemp("hw1-full")
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw1", root / part / "hw1")
    toml = root / "assignments" / "hw1" / "assignment.toml"
    # whatever the budget's key (wall or CPU seconds), each becomes an hour
    text, found = re.subn(r"(?m)^(\w*budget\w*)\s*=\s*[0-9.]+", r"\1 = 3600", toml.read_text())
    assert found, "no budget in hw1's [competition] to make generous"
    toml.write_text(text)
    return manifest.find("hw1", root)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_data_has_the_courses_shape():
    train, test = _rows(HW1 / "data" / "covid.train.csv"), _rows(HW1 / "data" / "covid.test.csv")
    assert len(train[0]) == 1 + 37 + 5 * 16 and train[0][-1] == "tested_positive_day5"
    assert test[0] == train[0][:-1]  # the test file lacks only the target
    assert 2600 <= len(train) - 1 <= 2800 and 1000 <= len(test) - 1 <= 1200
    assert all(sum(float(v) for v in row[1:38]) == 1 for row in train[1:50])  # one state per row


def test_data_is_what_the_generator_makes():
    done = subprocess.run([sys.executable, str(REPO / "reference" / "hw1" / "make_covid_data.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_test_labels_appear_nowhere_a_student_gets():
    labels = [row[1] for row in _rows(LABELS)[1:]]
    assert len(labels) > 1000
    wanted = set(labels)
    for path in sorted(p for p in HW1.rglob("*") if p.is_file()):
        tokens = set(re.split(r"[\s,;:\"'\[\](){}]+", path.read_text(errors="replace")))
        found = len(wanted & tokens)
        # some 5-decimal numbers in 2 MB of data match by chance (about 3%); a leak would show nearly all
        assert found < 0.2 * len(wanted), f"{path.relative_to(REPO)} holds {found} of the {len(wanted)} test labels"
        if path.suffix == ".csv":
            for column in zip(*_rows(path)[1:]):
                assert list(column) != labels, f"{path.relative_to(REPO)} has a column equal to the test labels"
    assert not list(HW1.rglob("make_covid_data.py")), "the generator (which knows the labels) must stay in reference/"


def _definitions(source: str) -> dict[str, str]:
    tree = ast.parse(source)
    return {n.name: ast.dump(n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def test_notebook_holds_the_same_code_as_the_files():
    nb = nbformat.read(HW1 / "hw1.ipynb", as_version=4)
    nbformat.validate(nb)
    code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
    files = {**_definitions((HW1 / "regression.py").read_text()), **_definitions((HW1 / "covid.py").read_text())}
    assert _definitions(code) == files
    assert 'if __name__ == "__main__":\n    main()' in code  # the grader imports it without training


def test_reference_beats_strong_on_both_splits(hw1_full, zygote):
    report = grade(hw1_full, hw1_full.reference_dir, zygote=zygote, reveal_private=True)
    comp = report.competition
    strong = next(b for b in hw1_full.competition.baselines if b.name == "strong")
    assert comp.public < strong.public and comp.private < strong.private, comp
    assert comp.run_cpu_seconds is not None
    assert report.score == report.max_score - (1 if comp.private_tier != "boss" else 0), [
        (c.name, c.message) for c in report.checks if c.status == "fail"
    ]


def test_starter_beats_simple_and_not_medium(hw1_full, zygote, tmp_path):
    folder = tmp_path / "starter"
    shutil.copytree(HW1, folder)
    report = grade(hw1_full, folder, zygote=zygote, reveal_private=True)
    comp = report.competition
    assert (comp.public_tier, comp.private_tier) == ("simple", "simple"), comp
    assert next(t for t in report.tasks if t.id == "training").score == hw1_full.competition.code_points
    # part A is still stubs
    assert next(t for t in report.tasks if t.id == "predict").score == 0


def _mean_prediction(path):
    train = _rows(HW1 / "data" / "covid.train.csv")
    mean = sum(float(r[-1]) for r in train[1:]) / (len(train) - 1)
    ids = [r[0] for r in _rows(HW1 / "data" / "covid.test.csv")[1:]]
    path.write_text("id,tested_positive\n" + "".join(f"{i},{mean}\n" for i in ids))
    return path


def test_constant_mean_beats_nothing(hw1_full, zygote, tmp_path):
    (entry,) = standings(hw1_full, [_mean_prediction(tmp_path / "mean.csv")], zygote, hidden_dir=None, reveal=True)
    assert (entry.public_tier, entry.private_tier) == ("none", "none")


def test_leaderboard_ranks_and_hides_private_scores(tmp_path):
    mean = _mean_prediction(tmp_path / "mean.csv")
    labels = _rows(LABELS)
    perfect = tmp_path / "perfect.csv"
    perfect.write_text("\n".join(",".join(r) for r in labels) + "\n")
    broken = tmp_path / "broken.csv"
    broken.write_text("id;tested_positive\n")
    runner = CliRunner()
    result = runner.invoke(main, ["leaderboard", "hw1", "--root", str(REPO), "--format", "json", str(mean), str(broken), str(perfect)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [e["submission"] for e in data["entries"]] == ["perfect", "mean", "broken"]
    assert data["entries"][0]["path"] == str(perfect)
    assert data["entries"][0]["public"] == 0 and data["entries"][0]["public_tier"] == "boss"
    assert "semicolons" in data["entries"][2]["problem"]
    assert all("private" not in e and "private_tier" not in e for e in data["entries"])
    assert all("private" not in b for b in data["baselines"])

    result = runner.invoke(main, ["leaderboard", "hw1", "--root", str(REPO), "--format", "csv", "--reveal-private", str(mean), str(perfect)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "rank,submission,public,public_tier,private,private_tier,problem,path"
    assert lines[1].startswith("1,perfect,0.00000,boss,0.00000,boss")


def _pred_in(folder):
    folder.mkdir(parents=True)
    return _mean_prediction(folder / "pred.csv")


def test_leaderboard_rows_are_named_by_student(tmp_path):
    """Two students' pred.csv are two names, not `pred.csv` twice."""
    alice, bob = _pred_in(tmp_path / "alice"), _pred_in(tmp_path / "bob-repo" / "assignments" / "hw1")
    carol = _mean_prediction(tmp_path / "carol.csv")
    dave = _pred_in(tmp_path / "downloads" / "x")
    args = ["leaderboard", "hw1", "--root", str(REPO), "--format", "json", str(alice), str(bob), str(carol), f"dave={dave}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = {e["submission"]: e["path"] for e in json.loads(result.stdout)["entries"]}
    assert rows == {"alice": str(alice), "bob-repo": str(bob), "carol": str(carol), "dave": str(dave)}


def test_leaderboard_names_that_would_repeat_keep_enough_of_their_path(hw1_full, tmp_path):
    from grader.competition.leaderboard import names_for

    a, b = tmp_path / "2025" / "alice" / "pred.csv", tmp_path / "2026" / "alice" / "pred.csv"
    for path in (a, b):
        _pred_in(path.parent)
    assert names_for(hw1_full, [(None, a), (None, b), ("alice", tmp_path)]) == ["2025/alice", "2026/alice", "alice"]
    assert names_for(hw1_full, [(None, a), ("alice", tmp_path)]) == ["2025/alice", "alice"]


@pytest.mark.parametrize(
    "args, said",
    [
        (["nobody/pred.csv"], "nobody/pred.csv does not exist (give pred.csv files, folders, .py or .ipynb files, or NAME=PATH)"),
        (["=x.csv"], "'=x.csv': give a name before '=' (NAME=PATH), or a path alone"),
        (["ann={p}", "ann={p}"], "two submissions are named ann; give each NAME=PATH a different name"),
    ],
)
def test_leaderboard_arguments_that_cannot_be_used_are_one_line(tmp_path, args, said):
    mean = _mean_prediction(tmp_path / "m.csv")
    result = CliRunner().invoke(main, ["leaderboard", "hw1", "--root", str(REPO), *(a.format(p=mean) for a in args)])
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output, result.output


def test_leaderboard_without_labels_is_one_line(tmp_path):
    shutil.copytree(HW1, tmp_path / "assignments" / "hw1")
    result = CliRunner().invoke(main, ["leaderboard", "hw1", "--root", str(tmp_path), str(_mean_prediction(tmp_path / "m.csv"))])
    assert result.exit_code == 2
    assert "the leaderboard needs the test labels" in result.output and "Traceback" not in result.output


def test_skip_program_leaves_part_b_unscored_not_failed():
    result = CliRunner().invoke(main, ["hw1", "--root", str(REPO), "--reference", "--skip-program", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    part_b = [t for t in data["tests"] if t["task"] in ("training", "public_leaderboard", "private_leaderboard")]
    assert part_b and all(t["status"] == "skip" for t in part_b)
    assert data["competition"]["run_seconds"] is None and data["competition"]["public"] is None
    assert data["score"] == 6  # part A in full


def test_baselines_for_the_course_files_need_no_knowledge_of_their_header():
    """The training target is `tested_positive_day5` there: the one column the test file lacks."""
    result = CliRunner().invoke(main, ["baselines", "hw1", "--root", str(REPO), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["features"]) == 37 + 5 * 16 - 1 and "tested_positive_day5" not in data["features"]
    bars = data["baselines"]
    assert [b["name"] for b in bars] == ["simple", "medium", "strong", "boss"]
    for split in ("public", "private"):
        values = [b[split] for b in bars]
        assert values == sorted(values, reverse=True) and len(set(values)) == 4
        assert values[-1] < data["models"]["linear, every feature"][split] < values[0]

"""Kaggle-style tasks on a second, differently shaped dataset (bring your own data).

House prices: string ids in a ``house_id`` column, a ``price`` target, RMSE, 40% of
the test rows public, the program ``train.py``. Nothing here is hw1-specific: the
same code must work from the manifest alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader import manifest
from grader.competition import scoring
from grader.grading import grade

N_TRAIN, N_TEST, N_FEATURES = 240, 100, 5

MANIFEST = """
title = "House prices"

[limits]
call_timeout = 2
memory_mb = 1024

[competition]
title = "House prices"
program = "train.py"
train = "data/houses_train.csv"
test = "data/houses_test.csv"
labels = "answers/prices.csv"
id_column = "house_id"
target = "price"
prediction = "submission.csv"
metric = "rmse"
public_fraction = 0.4
split_seed = 7
time_budget = {budget}
wall_limit = {wall}
counts = "{counts}"
max_difference = 0.05
code_points = 3
baseline_points = 2

[[competition.baselines]]
name = "mean"
public = {mean_bar}
private = {mean_bar}

[[competition.baselines]]
name = "linear"
public = 1.3
private = 1.3
"""

# Least squares on the training file: RMSE close to the noise level (1.0).
LINEAR = """
import csv
import numpy as np

rows = list(csv.reader(open("data/houses_train.csv")))
x = np.array([r[1:-1] for r in rows[1:]], dtype=float)
y = np.array([r[-1] for r in rows[1:]], dtype=float)
a = np.c_[x, np.ones(len(x))]
w = np.linalg.lstsq(a, y, rcond=None)[0]
test = list(csv.reader(open("data/houses_test.csv")))
xt = np.array([r[1:] for r in test[1:]], dtype=float)
pred = np.c_[xt, np.ones(len(xt))] @ w
with open("submission.csv", "w") as f:
    f.write("house_id,price\\n")
    for r, p in zip(test[1:], pred):
        f.write(f"{r[0]},{p}\\n")
"""

MEAN = LINEAR.replace("pred = np.c_[xt, np.ones(len(xt))] @ w", "pred = np.full(len(xt), y.mean())")


def _table(ids, x, y=None) -> str:
    cols = ["house_id", *(f"f{i}" for i in range(x.shape[1]))] + (["price"] if y is not None else [])
    lines = [",".join(cols)]
    for i, row in enumerate(x):
        values = [ids[i], *(f"{v:.6f}" for v in row)] + ([f"{y[i]:.6f}"] if y is not None else [])
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def make_course(root: Path, *, counts: str = "rerun", budget: float = 30, wall: float = 600, tail: str = "") -> Path:
    """A houses course; ``budget``: CPU seconds, ``wall``: the wall-clock cap (generous
    by default: tests never depend on the machine's speed); ``tail``: manifest text
    added at its end (an [environment] table)."""
    rng = np.random.default_rng(3)
    beta = rng.normal(0, 3, N_FEATURES)
    x = rng.normal(0, 1, (N_TRAIN + N_TEST, N_FEATURES))
    y = 50 + x @ beta + rng.normal(0, 1, len(x))
    ids = [f"h{i:04d}" for i in range(len(x))]
    a = root / "assignments" / "houses"
    (a / "data").mkdir(parents=True)
    (root / "reference" / "houses" / "answers").mkdir(parents=True)
    mean_bar = 0.8 * float(y.std())  # a constant predictor's RMSE is about the std: it must not pass
    (a / "assignment.toml").write_text(MANIFEST.format(counts=counts, budget=budget, wall=wall, mean_bar=f"{mean_bar:.4f}") + tail)
    (a / "data" / "houses_train.csv").write_text(_table(ids[:N_TRAIN], x[:N_TRAIN], y[:N_TRAIN]))
    (a / "data" / "houses_test.csv").write_text(_table(ids[N_TRAIN:], x[N_TRAIN:]))
    labels = "house_id,price\n" + "".join(f"{i},{v:.6f}\n" for i, v in zip(ids[N_TRAIN:], y[N_TRAIN:]))
    (root / "reference" / "houses" / "answers" / "prices.csv").write_text(labels)
    (a / "train.py").write_text(LINEAR)
    return root


@pytest.fixture(scope="module")
def houses_root(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("houses"))


@pytest.fixture(scope="module")
def houses(houses_root):
    return manifest.find("houses", houses_root)


@pytest.fixture
def grade_program(houses, zygote, tmp_path):
    def run(source: str, *, extra: dict | None = None, reveal: bool = False, assignment=None):
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        (folder / "train.py").write_text(textwrap.dedent(source))
        for name, text in (extra or {}).items():
            (folder / name).write_text(text)
        return grade(assignment or houses, folder, zygote=zygote, reveal_private=reveal)

    return run


def _task(report, task_id):
    return next(t for t in report.tasks if t.id == task_id)


def _check(report, start):
    return next(c for c in report.checks if c.name.startswith(start))


def test_manifest_makes_three_tasks_from_the_competition(houses):
    tasks = {t.id: t for t in houses.tasks}
    assert tasks["training"].points == 3
    assert tasks["public_leaderboard"].points == tasks["private_leaderboard"].points == 4  # 2 baselines x 2 points
    assert houses.max_score == 11


def test_good_program_beats_both_baselines_in_public_and_stays_sealed(grade_program):
    report = grade_program(LINEAR)
    assert _task(report, "training").score == 3, [c.message for c in _task(report, "training").checks]
    assert _task(report, "public_leaderboard").score == 4
    private = _task(report, "private_leaderboard")
    assert private.score == 0 and all(c.status == "skip" and "sealed" in c.message for c in private.checks)
    comp = report.competition
    assert comp.public is not None and 0.7 < comp.public < 1.3
    assert comp.private is None and comp.private_tier is None and comp.private_sealed
    assert "private" not in json.dumps({k: v for k, v in report.to_dict()["competition"].items() if v is not None and k != "private_sealed"})
    assert report.all_passed  # a sealed split fails nothing


def test_reveal_private_scores_the_private_split(grade_program, houses, houses_root):
    report = grade_program(LINEAR, reveal=True)
    assert _task(report, "private_leaderboard").score == 4
    assert report.competition.private is not None and report.competition.private_tier == "linear"
    # the same number anyone holding the labels computes, on the documented split
    answer = scoring.load_answer(houses.competition)
    assert len(answer.public) == 40 and answer.public == scoring.public_ids(answer.ids, 7, 0.4)


def test_constant_mean_beats_nothing(grade_program):
    report = grade_program(MEAN, reveal=True)
    assert _task(report, "training").score == 3  # the code runs: code points stand
    assert _task(report, "public_leaderboard").score == 0
    assert _task(report, "private_leaderboard").score == 0
    assert report.competition.public_tier == "none"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x = 1\nraise ValueError('bad column')\n", "raised ValueError: bad column (at train.py, line 2"),
        ("import sys\nsys.exit(3)\n", "sys.exit(3)"),
        ("print('training…')\n", "finished without writing submission.csv in its working folder; it wrote no CSV file"),
        ("open('submission.csv', 'w').write('house_id;price\\n')\n", "semicolons"),
        ("import os\nos.symlink('/etc/passwd', 'submission.csv')\n", "symbolic link"),
        ("import os\nos.mkfifo('submission.csv')\n", "not a plain file"),
        ("def broken(:\n    pass\n", "syntax error in line 1"),
    ],
    ids=["crash", "exit_code", "no_csv", "semicolons", "symlink", "fifo", "syntax"],
)
def test_a_failed_run_gets_a_clear_message_and_no_points(grade_program, source, expected):
    report = grade_program(source)
    messages = [c.message for c in _task(report, "training").checks if c.status == "fail"]
    assert any(expected in m for m in messages), messages
    assert _task(report, "public_leaderboard").score == 0
    assert report.competition.source == "none" and report.competition.problem


def _run_in(tmp_path, zygote, program: str, **course):
    root = make_course(tmp_path / "course", **course)
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "train.py").write_text(program)
    return grade(manifest.find("houses", root), folder, zygote=zygote)


def test_a_run_over_its_cpu_budget_is_stopped_and_told_how_far_it_got(tmp_path, zygote):
    busy = "print('epoch 1: loss 9.5')\nprint('epoch 2: loss 7.25', flush=True)\nwhile True:\n    pass\n"
    report = _run_in(tmp_path, zygote, busy, budget=1)
    run_check = _check(report, "train.py runs to the end within 1 s of CPU")
    assert run_check.status == "fail"
    assert "train.py used its budget of 1 s of CPU time and was stopped" in run_check.message
    assert "its last lines: `epoch 1: loss 9.5` | `epoch 2: loss 7.25`" in run_check.message
    assert "fewer epochs" in run_check.message and "grade houses" in run_check.message
    assert report.competition.run_cpu_seconds >= 1 and report.competition.cpu_budget == 1
    assert _task(report, "training").score == 0 and _task(report, "public_leaderboard").score == 0


def test_cpu_used_by_a_child_process_counts(tmp_path, zygote):
    """The tree's CPU, not the worker's alone: a parent that waits on a busy child is stopped
    by the CPU budget (were only its own time counted, the wall-clock cap would stop it)."""
    forks = "import os\npid = os.fork()\nif pid == 0:\n    while True:\n        pass\nos.waitpid(pid, 0)\n"
    report = _run_in(tmp_path, zygote, forks, budget=1, wall=120)
    message = _check(report, "train.py runs to the end").message
    assert "used its budget of 1 s of CPU time" in message, message


def test_waiting_costs_no_budget(tmp_path, zygote):
    """Wall time is not CPU time: a run that sleeps for longer than its CPU budget finishes
    (the budget is 2 CPU seconds, the sleep 4 s; the program computes next to nothing)."""
    report = _run_in(tmp_path, zygote, "import time\ntime.sleep(4)\n" + LINEAR, budget=2)
    assert _check(report, "train.py runs to the end").status == "pass", _check(report, "train.py runs").message
    assert report.competition.run_seconds >= 4 > report.competition.run_cpu_seconds
    assert _task(report, "training").score == 3


def test_a_run_that_only_waits_meets_the_wall_clock_cap(tmp_path, zygote):
    report = _run_in(tmp_path, zygote, "import time\nprint('downloading...')\ntime.sleep(3600)\n", budget=30, wall=2)
    message = _check(report, "train.py runs to the end").message
    assert "train.py was still running after 2 s, the wall-clock limit, having used" in message, message
    assert "`downloading...`" in message and "remove the wait" in message


def test_student_code_runs_with_one_thread_whatever_the_environment(tmp_path, monkeypatch):
    """One thread policy for every path: a caller's OMP_NUM_THREADS (a CI runner's, a
    laptop's) does not reach the program, so its grade is the same everywhere."""
    from grader.sandbox.client import Zygote

    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("MKL_NUM_THREADS", "4")
    shows = "import os, torch\nprint(f'threads={torch.get_num_threads()} omp={os.environ.get(\"OMP_NUM_THREADS\")}')\n" + LINEAR
    zygote = Zygote()
    try:
        report = _run_in(tmp_path, zygote, shows)
    finally:
        zygote.close()
    assert "threads=1 omp=1" in _check(report, "train.py runs to the end").output


def test_the_trusted_process_follows_the_same_thread_policy(monkeypatch):
    import torch

    from grader import threads

    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    before = torch.get_num_threads()
    try:
        threads.limit_this_process()  # what grade() and grade batch call first
        assert torch.get_num_threads() == 1 and threads.environment()["OMP_NUM_THREADS"] == "1"
        assert __import__("os").environ["OMP_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(before)


def test_predictions_written_before_a_crash_are_scored(grade_program):
    report = grade_program(LINEAR + "\nraise RuntimeError('plotting failed')\n")
    run_check = _check(report, "train.py runs to the end")
    assert run_check.status == "fail" and "RuntimeError: plotting failed" in run_check.message
    assert _check(report, "writes a valid submission.csv").status == "pass"
    assert _task(report, "public_leaderboard").score == 4  # the predictions count
    assert _task(report, "training").score == 3 * 1 / 2  # only "runs to the end" is lost
    assert report.competition.source == "rerun" and report.competition.public is not None


def test_a_run_that_writes_other_csv_files_is_told_which(grade_program):
    wrong_place = LINEAR.replace('open("submission.csv", "w")', 'open("out/submission.csv", "w")')
    report = grade_program("import os\nos.makedirs('out')\nopen('preds.csv', 'w').write('x')\n" + wrong_place)
    message = _check(report, "writes a valid submission.csv").message
    assert "finished without writing submission.csv in its working folder; it wrote preds.csv, out/submission.csv (write submission.csv in the folder" in message
    assert "houses_train.csv" not in message  # the data it was given is not its output


def test_the_data_is_also_beside_the_program(grade_program):
    """Course notebooks read ./covid.train.csv, not data/covid.train.csv."""
    report = grade_program(LINEAR.replace("data/houses_", "houses_"))
    assert _task(report, "training").score == 3, [c.message for c in report.checks]


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_google_colab_is_a_harmless_stand_in(grade_program):
    # where another portion of the `google` namespace is installed (protobuf, with tensorboard),
    # the stand-in must not shadow it
    sibling = "import google.protobuf\n" if _installed("google.protobuf") else ""
    program = "from google.colab import drive\ndrive.mount('/content/drive')\n" + sibling + LINEAR
    report = grade_program(program)
    run_check = _check(report, "train.py runs to the end")
    assert run_check.status == "pass", run_check.message
    assert "[grader] skipped drive.mount('/content/drive')" in run_check.output
    assert _task(report, "public_leaderboard").score == 4


def test_without_colab_there_is_no_google_folder(grade_program):
    report = grade_program("import os\nassert not os.path.exists('google')\n" + LINEAR)
    assert _check(report, "train.py runs to the end").status == "pass"


ENVIRONMENT = '[environment]\npackages = ["numpy", "grader-surely-absent-package", "torch>=999"]\n'


def test_a_missing_declared_package_is_one_line_and_explains_a_failed_import(tmp_path, zygote):
    report = _run_in(tmp_path, zygote, "import grader_surely_absent_package\n", tail=ENVIRONMENT)
    assert report.environment.startswith("houses's grading environment is incomplete here")
    assert "grader-surely-absent-package is not installed" in report.environment
    assert "torch 2" in report.environment and ">=999 is needed" in report.environment and "numpy" not in report.environment
    assert report.environment.endswith("python -m pip install grader-surely-absent-package 'torch>=999'")
    message = _check(report, "train.py runs to the end").message
    assert "No module named 'grader_surely_absent_package'" in message and report.environment in message


def test_a_complete_environment_says_nothing(tmp_path, zygote):
    report = _run_in(tmp_path, zygote, LINEAR, tail='[environment]\npackages = ["numpy", "torch>=2"]\n')
    assert report.environment == "" and report.all_passed


def test_the_labels_are_out_of_the_programs_reach(grade_program, houses_root):
    labels = houses_root / "reference" / "houses" / "answers" / "prices.csv"
    steal = f"import shutil\nshutil.copy({str(labels)!r}, 'submission.csv')\n"
    report = grade_program(steal)
    assert _task(report, "public_leaderboard").score == 0
    assert any(e in c.message for c in report.checks for e in ("FileNotFoundError", "PermissionError")), [c.message for c in report.checks]


def test_a_submitted_file_that_differs_from_the_rerun_is_flagged(grade_program):
    wrong = "house_id,price\n" + "".join(f"h{i:04d},0\n" for i in range(N_TRAIN, N_TRAIN + N_TEST))
    report = grade_program(LINEAR, extra={"submission.csv": wrong})
    check = _check(report, "matches the submitted")
    assert check.status == "fail" and "differ by" in check.message
    assert report.competition.flag
    assert _task(report, "public_leaderboard").score == 4  # counts = "rerun": the re-run is scored


def test_a_handed_in_prediction_file_is_not_the_reruns(grade_program, houses_root):
    """A program that writes nothing must not have the handed-in file read back as its own."""
    labels = (houses_root / "reference" / "houses" / "answers" / "prices.csv").read_text()
    report = grade_program("print('I write nothing')\n", extra={"submission.csv": labels})
    assert _check(report, "writes a valid submission.csv").status == "fail"
    assert _task(report, "public_leaderboard").score == 0 and report.competition.source == "none"


def test_a_matching_submitted_file_passes(grade_program, houses_root, tmp_path):
    first = grade_program(LINEAR)
    assert _check(first, "matches the submitted").status == "skip"
    # what the program writes when run by hand, handed in alongside it
    own = tmp_path / "own"
    shutil.copytree(houses_root / "assignments" / "houses" / "data", own / "data")
    (own / "train.py").write_text(LINEAR)
    subprocess.run([sys.executable, "train.py"], cwd=own, check=True)
    report = grade_program(LINEAR, extra={"submission.csv": (own / "submission.csv").read_text()})
    assert _check(report, "matches the submitted").status == "pass"
    assert not report.competition.flag


def _counts_submitted(tmp_path, program: str):
    """A course whose submitted prediction file counts, and a submission folder with ``program``."""
    root = make_course(tmp_path, counts="submitted")
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "train.py").write_text(program)
    return manifest.find("houses", root), folder, root / "reference" / "houses" / "answers" / "prices.csv"


def test_counts_submitted_scores_the_handed_in_file(tmp_path, zygote):
    assignment, folder, labels = _counts_submitted(tmp_path, MEAN)
    (folder / "submission.csv").write_text(labels.read_text())  # a perfect file, as if forged
    report = grade(assignment, folder, zygote=zygote)
    assert report.competition.source == "submitted"
    assert _task(report, "public_leaderboard").score == 4
    # ... and the policy's safeguard: the re-run disagrees, so the submission is flagged
    assert report.competition.flag and _check(report, "matches the submitted").status == "fail"


def test_a_symlinked_submitted_file_is_refused(tmp_path, zygote):
    assignment, folder, labels = _counts_submitted(tmp_path, LINEAR)
    (folder / "submission.csv").symlink_to(labels)
    report = grade(assignment, folder, zygote=zygote, run_program=False)
    assert report.competition.source == "none"
    assert "symbolic link" in report.competition.problem
    assert _task(report, "public_leaderboard").score == 0


def test_without_labels_the_leaderboard_is_skipped_with_a_reason(grade_program, houses, tmp_path, zygote):
    report = grade(houses, Path(houses.directory), zygote=zygote, include_hidden=False)
    board = _task(report, "public_leaderboard")
    assert all(c.status == "skip" and "--public-only" in c.message for c in board.checks)
    assert _task(report, "training").score == 3  # the run still earns code points


def test_reports_carry_the_competition_and_nothing_sealed(grade_program):
    import base64

    from grader.render import github, json_report

    report = grade_program(LINEAR)
    data = json.loads(json_report.render(report))
    assert data["competition"]["public"] == report.competition.public
    assert data["competition"]["private"] is None and data["competition"]["private_tier"] is None
    lines = dict(line.split("=", 1) for line in github.render(report).splitlines())
    private = json.loads(base64.b64decode(lines["privateleaderboard"]))
    # sealed: a passing runner worth 0 of 0 (left out of the total), never a failed test
    assert private["max_score"] == 0 and private["status"] == "pass" and [t["score"] for t in private["tests"]] == [0]
    assert "sealed" in private["tests"][0]["message"]
    public = json.loads(base64.b64decode(lines["publicleaderboard"]))
    assert sum(t["score"] for t in public["tests"]) == 4


def _baselines(root: Path, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from grader.cli import main

    result = CliRunner().invoke(main, ["baselines", "houses", "--root", str(root), *args])
    return result.exit_code, result.output


def test_baselines_come_from_the_manifests_columns_alone(houses_root, tmp_path):
    """A second dataset, shaped unlike hw1's: string ids, `house_id`/`price`, RMSE, 40% public."""
    code, output = _baselines(houses_root, "--format", "json")
    assert code == 0, output
    data = json.loads(output)
    assert data["features"] == [f"f{i}" for i in range(N_FEATURES)] and data["notes"] == []
    models = data["models"]
    assert list(models) == ["constant", next(m for m in models if m.startswith("linear, best single feature (f")), "linear, 2 best features", "linear, every feature"]
    assert 0.7 < models["linear, every feature"]["public"] < 1.3  # least squares reaches the noise (1.0)
    assert models["constant"]["public"] > 3 * models["linear, every feature"]["public"]
    bars = data["baselines"]
    assert [b["name"] for b in bars] == ["mean", "linear"]  # the manifest's names
    for split in ("public", "private"):
        assert bars[0][split] == pytest.approx(models["linear, 2 best features"][split] * 1.1, rel=5e-3)
        assert bars[1][split] == pytest.approx(models["linear, every feature"][split] * 0.9, rel=5e-3)
    # the text printed to paste is a valid manifest section
    code, output = _baselines(houses_root)
    assert code == 0 and '[[competition.baselines]]\nname = "mean"' in output
    manifest_path = houses_root / "assignments" / "houses" / "assignment.toml"
    course = tmp_path / "pasted"
    shutil.copytree(houses_root, course)
    text = manifest_path.read_text().split("[[competition.baselines]]")[0] + output[output.index("[[competition.baselines]]") :]
    (course / "assignments" / "houses" / "assignment.toml").write_text(text)
    assert [b.name for b in manifest.find("houses", course).competition.baselines] == ["mean", "linear"]


def test_baselines_take_any_files_with_the_id_and_target(houses_root, tmp_path):
    """Bring-your-own files: a text column is left out, empty cells are filled, and the
    training target may have its own name (the one column the test file lacks)."""
    data = houses_root / "assignments" / "houses" / "data"
    train = [line.split(",") for line in (data / "houses_train.csv").read_text().splitlines()]
    train[0][-1] = "price_next_year"
    rows = [",".join(r[:-1] + ["city" if i == 0 else f"town{i % 3}"] + r[-1:]) for i, r in enumerate(train)]
    rows[5] = rows[5].replace(rows[5].split(",")[2], "", 1)
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    test = (data / "houses_test.csv").read_text().splitlines()
    (tmp_path / "test.csv").write_text("\n".join(line + ("," + ("city" if i == 0 else "town1")) for i, line in enumerate(test)) + "\n")
    labels = houses_root / "reference" / "houses" / "answers" / "prices.csv"
    args = ["--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"), "--labels", str(labels), "--format", "json"]
    code, output = _baselines(houses_root, *args)
    assert code == 0, output
    found = json.loads(output)
    assert "city: not numbers, left out" in found["notes"] and "f1: 1 empty cells, filled with the training mean" in found["notes"]
    assert found["features"] == [f"f{i}" for i in range(N_FEATURES)]

    short = tmp_path / "short.csv"
    short.write_text("\n".join(labels.read_text().splitlines()[:-1]) + "\n")
    code, output = _baselines(houses_root, *args[:-4], "--labels", str(short))
    assert code == 2 and "has no label for 1 of the test ids" in output and "Traceback" not in output, output


# A classification competition from the manifest alone: three classes of points, macro F1.

BLOBS = """
title = "Blobs"

[competition]
program = "train.py"
train = "data/train.csv"
test = "data/test.csv"
labels = "answers/labels.csv"
id_column = "id"
target = "kind"
metric = "macro_f1"
num_classes = 3
split_seed = 5
time_budget = 30
wall_limit = 600
max_difference = 0.1
code_points = 1

[[competition.baselines]]
name = "chance"
public = 0.4
private = 0.4

[[competition.baselines]]
name = "centroid"
public = 0.85
private = 0.85
"""

# Nearest class mean: macro F1 near 0.95 on well-separated blobs.
CENTROID = """
import csv
import numpy as np

rows = list(csv.reader(open("data/train.csv")))[1:]
x = np.array([r[1:3] for r in rows], dtype=float)
y = np.array([int(r[3]) for r in rows])
centres = np.stack([x[y == c].mean(0) for c in range(3)])
test = list(csv.reader(open("data/test.csv")))[1:]
xt = np.array([r[1:3] for r in test], dtype=float)
pred = ((xt[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
with open("pred.csv", "w") as f:
    f.write("id,kind\\n" + "".join(f"{r[0]},{p}\\n" for r, p in zip(test, pred)))
"""


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    root = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(11)
    y = rng.integers(0, 3, 300)
    x = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])[y] + rng.normal(0, 1, (300, 2))
    a = root / "assignments" / "blobs"
    (a / "data").mkdir(parents=True)
    (root / "reference" / "blobs" / "answers").mkdir(parents=True)
    (a / "assignment.toml").write_text(BLOBS)
    (a / "data" / "train.csv").write_text("id,x0,x1,kind\n" + "".join(f"{i},{p[0]:.4f},{p[1]:.4f},{c}\n" for i, (p, c) in enumerate(zip(x[:200], y[:200]))))
    (a / "data" / "test.csv").write_text("id,x0,x1\n" + "".join(f"{i},{p[0]:.4f},{p[1]:.4f}\n" for i, p in enumerate(x[200:], 200)))
    (root / "reference" / "blobs" / "answers" / "labels.csv").write_text("id,kind\n" + "".join(f"{i},{c}\n" for i, c in enumerate(y[200:], 200)))
    (a / "train.py").write_text(CENTROID)
    return manifest.find("blobs", root)


def test_a_classifier_beats_its_baselines_by_macro_f1(blobs, zygote, tmp_path):
    folder = tmp_path / "good"
    folder.mkdir()
    (folder / "train.py").write_text(CENTROID)
    report = grade(blobs, folder, zygote=zygote, reveal_private=True)
    comp = report.competition
    assert comp.metric == "macro_f1" and comp.public > 0.85 and comp.private > 0.85, comp
    assert (comp.public_tier, comp.private_tier) == ("centroid", "centroid")
    assert [c.name for c in report.checks if c.task == "public_leaderboard"] == [
        "public: beat chance (macro_f1 > 0.4)",
        "public: beat centroid (macro_f1 > 0.85)",
    ]
    assert report.score == report.max_score


def test_a_constant_class_has_a_low_macro_f1_and_beats_nothing(blobs, zygote, tmp_path):
    folder = tmp_path / "constant"
    folder.mkdir()
    (folder / "train.py").write_text(CENTROID.replace("pred = ((xt", "pred = 0 * ((xt"))
    report = grade(blobs, folder, zygote=zygote, reveal_private=True)
    comp = report.competition
    assert comp.public < 0.25 and (comp.public_tier, comp.private_tier) == ("none", "none"), comp  # one class of three: F1 ~0.5 / 3
    failed = _check(report, "public: beat chance")
    assert failed.status == "fail" and f"public macro_f1 {comp.public:.4f} is not above chance's 0.4" in failed.message


def test_a_submitted_class_file_that_disagrees_is_flagged_by_its_share_of_rows(blobs, zygote, tmp_path):
    folder = tmp_path / "flagged"
    folder.mkdir()
    (folder / "train.py").write_text(CENTROID)
    test_ids = list(range(200, 300))
    (folder / "pred.csv").write_text("id,kind\n" + "".join(f"{i},{i % 3}\n" for i in test_ids))  # not what train.py writes
    report = grade(blobs, folder, zygote=zygote)
    check = _check(report, "matches the submitted")
    assert check.status == "fail" and re.search(r"disagree on \d+\.\d% of the rows \(allowed 10\.0%\)", check.message), check.message


def test_the_program_is_told_its_device(blobs, zygote, tmp_path):
    folder = tmp_path / "device"
    folder.mkdir()
    (folder / "train.py").write_text(f"import os\nprint('device=' + os.environ[{manifest.DEVICE_ENV!r}])\n" + CENTROID)
    report = grade(blobs, folder, zygote=zygote)
    assert "device=cpu" in _check(report, "train.py runs to the end").output  # the default: device = "cpu"

"""hw5 part B as shipped: an accuracy competition on phoneme frames.

The data and its generator, the labels' secrecy, the starter (through the whole
engine), the reference's pieces (frame concatenation, the device it picks), the
direction of "better" for accuracy, and the manifest's classification keys.

The reference's full training run (about 30 s of CPU: full marks, every baseline on both
splits) is too slow for this suite; its figures, and the command that reproduces them,
are in reference/hw5/README.md and benchmarks/README.md. Here it runs cut to two
epochs, which already beats medium, and its pieces are checked one by one.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from grader import manifest
from grader.cli import main
from grader.competition import scoring
from grader.errors import ManifestError
from grader.grading import grade
from tests.conftest import REPO

HW5 = REPO / "assignments" / "hw5"
REFERENCE = REPO / "reference" / "hw5"
LABELS = REFERENCE / "data" / "phoneme.test.labels.csv"
N_FEATURES, N_CLASSES = 39, 41


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def hw5():
    return manifest.find("hw5", REPO)


@pytest.fixture(scope="module")
def hw5_generous(tmp_path_factory):
    """hw5 as shipped with a budget no loaded machine runs out of: these tests are about
    scores, not speed (benchmarks/ times the run). Part A's files are not needed."""
    root = tmp_path_factory.mktemp("hw5-full")
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw5", root / part / "hw5")
    toml = root / "assignments" / "hw5" / "assignment.toml"
    text, found = re.subn(r"(?m)^(time_budget)\s*=\s*[0-9.]+", r"\1 = 3600", toml.read_text())
    assert found, "no time_budget in hw5's [competition] to make generous"
    toml.write_text(text)
    return manifest.find("hw5", root)


@pytest.fixture(scope="module")
def train_table():
    rows = _rows(HW5 / "data" / "phoneme.train.csv")
    header = rows[0]
    first = header.index("f0")
    utterances = [r[header.index("utterance")] for r in rows[1:]]
    x = np.array([r[first : first + N_FEATURES] for r in rows[1:]], dtype=np.float64)
    y = np.array([int(r[-1]) for r in rows[1:]])
    return header, utterances, x, y


@pytest.fixture(scope="module")
def program():
    """The reference program's module, imported (its training stays in main())."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hw5_phonemes_reference", REFERENCE / "phonemes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The data.


def test_data_has_the_courses_shape(train_table):
    header, utterances, x, y = train_table
    assert header == ["Id", "utterance", "frame", *(f"f{i}" for i in range(N_FEATURES)), "Class"]
    test = _rows(HW5 / "data" / "phoneme.test.csv")
    assert test[0] == header[:-1]  # the test file lacks only the class
    assert sorted(set(y)) == list(range(N_CLASSES))  # every class is in the training file
    assert 10_000 <= len(y) <= 20_000 and 3_000 <= len(test) - 1 <= 6_000
    # a class persists for several frames: segments average more than 3 frames
    changes = sum(1 for i in range(1, len(y)) if y[i] != y[i - 1] or utterances[i] != utterances[i - 1])
    assert len(y) / (changes + 1) > 3
    # coefficients of very different scales (normalization matters)
    std = x.std(0)
    assert std.max() / std.min() > 20
    size = sum(p.stat().st_size for p in (HW5 / "data").iterdir())
    assert size < 6 << 20, f"the student data is {size >> 20} MiB; keep the bundle small"


def test_data_is_what_the_generator_makes():
    done = subprocess.run([sys.executable, str(REFERENCE / "make_phoneme_data.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_generator_is_deterministic_from_its_seed():
    sys.path.insert(0, str(REFERENCE))
    try:
        import make_phoneme_data as gen
    finally:
        sys.path.remove(str(REFERENCE))
    a, b = gen.generate(), gen.generate()
    assert all(np.array_equal(a["test"][k], b["test"][k]) for k in (1, 2, 3))
    other = gen.generate(gen.SEED + 1)
    assert not np.array_equal(a["test"][2][:50], other["test"][2][:50])


def test_test_labels_appear_nowhere_a_student_gets():
    labels = [row[1] for row in _rows(LABELS)[1:]]
    assert len(labels) > 3000 and set(labels) <= {str(c) for c in range(N_CLASSES)}
    for path in sorted(p for p in HW5.rglob("*.csv")):
        for column in zip(*_rows(path)[1:]):
            assert list(column) != labels, f"{path.relative_to(REPO)} has a column equal to the test labels"
    assert "Class" not in _rows(HW5 / "data" / "phoneme.test.csv")[0]
    assert not list(HW5.rglob("make_phoneme_data.py")), "the generator (which knows the labels) must stay in reference/"


def _nearest_mean_accuracy(x, y, train, valid):
    mean, std = x[train].mean(0), x[train].std(0) + 1e-8
    z = (x - mean) / std
    centres = np.stack([z[train][y[train] == c].mean(0) for c in range(N_CLASSES)])
    zv = z[valid]
    distance = (zv**2).sum(1)[:, None] - 2 * zv @ centres.T + (centres**2).sum(1)[None, :]
    return float((distance.argmin(1) == y[valid]).mean())


def test_neighbouring_frames_carry_the_signal(train_table, program):
    """The lesson the data is built for: the same plain model does far better on 5
    concatenated frames than on one."""
    _, utterances, x, y = train_table
    train, valid = program.split_utterances(utterances, 0.2, 0)
    one = _nearest_mean_accuracy(x, y, train, valid)
    five = _nearest_mean_accuracy(program.concat_feat(x, utterances, 5), y, train, valid)
    assert one < 0.45 and five > one + 0.1, (one, five)


# The reference program's pieces.


def test_concat_feat_stays_inside_each_utterance(program):
    x = np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 2), dtype=np.float32)  # frame i holds i, i
    out = program.concat_feat(x, ["a", "a", "a", "b", "b"], 3)
    assert out.shape == (5, 6)
    # each row: previous, itself, next; the first and last frames of an utterance repeated past its ends
    assert out[:, ::2].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 2], [3, 3, 4], [3, 4, 4]]
    assert program.concat_feat(x, list("aaabb"), 1) is x


def test_smoothing_outvotes_a_lone_frame_and_stops_at_the_utterance(program):
    probs = np.zeros((6, 3), dtype=np.float32)
    probs[[0, 1, 3], 0] = 0.9
    probs[2, 1] = 0.9  # a lone frame of class 1 in a run of class 0
    probs[[4, 5], 2] = 1.0  # the next utterance: class 2
    out = program.smooth(probs, list("aaaabb"), 3)
    assert out.argmax(1).tolist() == [0, 0, 0, 0, 2, 2]
    assert np.allclose(out[4], [0, 0, 1])  # nothing crosses from the utterance before
    assert np.array_equal(program.smooth(probs, list("aaaabb"), 1), probs)


def test_validation_keeps_whole_utterances(program):
    utts = [f"u{i // 10}" for i in range(200)]
    train, valid = program.split_utterances(utts, 0.2, 0)
    assert valid.sum() == 40 and not (train & valid).any() and (train | valid).all()
    assert not {u for u, v in zip(utts, valid) if v} & {u for u, t in zip(utts, train) if t}


@pytest.mark.parametrize(
    "told, cuda, works, expected",
    [
        ("cuda", False, False, "cpu"), ("cuda", True, True, "cuda"), ("cuda", True, False, "cpu"), ("cpu", True, True, "cpu"),
        (None, True, True, "cuda"), (None, False, False, "cpu"),
    ],
    ids=["cuda_absent_falls_back", "cuda", "cuda_refuses_falls_back", "told_cpu", "untold_gpu", "untold_no_gpu"],
)  # fmt: skip
def test_the_program_trains_where_it_is_told_or_falls_back_to_the_cpu(program, monkeypatch, told, cuda, works, expected):
    if told is None:
        monkeypatch.delenv(manifest.DEVICE_ENV, raising=False)
    else:
        monkeypatch.setenv(manifest.DEVICE_ENV, told)
    monkeypatch.setattr(program.torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(program, "cuda_works", lambda: works)
    assert program.pick_device() == expected


def test_a_gpu_that_refuses_a_tensor_means_the_cpu(program, monkeypatch, capsys):
    """Here torch has no CUDA at all: making a tensor there fails, and that is a fallback, not a crash."""
    if program.torch.cuda.is_available():
        pytest.skip("this machine has a working GPU")
    assert program.cuda_works() is False
    assert "training on the CPU" in capsys.readouterr().out


def test_the_starter_is_what_the_reference_builds():
    done = subprocess.run([sys.executable, "-m", "grader.cli", "build", "hw5", "--check", "--root", str(REPO)], capture_output=True, text=True)
    starter = (HW5 / "phonemes.py").read_text()
    assert '"concat_nframes": 1' in starter and "BatchNorm1d" not in starter and "BEGIN SOLUTION" not in starter
    assert "assignments/hw5/phonemes.py" not in done.stdout + done.stderr, done.stdout + done.stderr


# Direction: higher accuracy is better.


def test_accuracy_beats_a_baseline_by_being_higher(hw5):
    comp = hw5.competition
    assert comp.higher_is_better and comp.classification and comp.num_classes == N_CLASSES
    bars = [b.public for b in comp.baselines]
    assert bars == sorted(bars) and len(set(bars)) == 4  # easiest (lowest) first
    assert scoring.tier(comp, "public", bars[0] - 0.01) == "none"
    assert scoring.tier(comp, "public", bars[0]) == "none"  # equal is not better
    assert scoring.tier(comp, "public", (bars[1] + bars[2]) / 2) == "medium"
    assert scoring.beaten(comp, "private", 1.0) == ["simple", "medium", "strong", "boss"]
    ranked = sorted([0.5, None, 0.9, 0.1], key=lambda s: scoring.rank_key(comp, s))
    assert ranked == [0.9, 0.5, 0.1, None]


def _constant_program(cls: int) -> str:
    return (
        "import csv, os\n"
        f"print('device', os.environ.get({manifest.DEVICE_ENV!r}))\n"
        "ids = [r[0] for r in list(csv.reader(open('data/phoneme.test.csv')))[1:]]\n"
        "with open('pred.csv', 'w') as f:\n"
        "    f.write('Id,Class\\n' + ''.join(f'{i},%d\\n' % " + str(cls) + " for i in ids))\n"
    )


def test_a_constant_class_scores_no_baseline_and_is_told_its_device(hw5_generous, zygote, tmp_path, train_table):
    """The most common class (silence), through the whole engine."""
    majority = int(np.bincount(train_table[3]).argmax())
    folder = tmp_path / "constant"
    folder.mkdir()
    (folder / "phonemes.py").write_text(_constant_program(majority))
    report = grade(hw5_generous, folder, zygote=zygote, reveal_private=True)
    comp = report.competition
    assert (comp.public_tier, comp.private_tier) == ("none", "none"), comp
    assert 0.1 < comp.public < hw5_generous.competition.baselines[0].public
    run = next(c for c in report.checks if c.task == "training" and "runs to the end" in c.name)
    assert run.status == "pass" and "device cuda" in run.output  # the manifest's device = "cuda"
    failed = next(c for c in report.checks if c.name.startswith("public: beat simple"))
    assert failed.name == f"public: beat simple (accuracy > {hw5_generous.competition.baselines[0].public:g})"
    assert failed.status == "fail" and "is not above simple's" in failed.message
    from grader.platforms.gradescope.results import render

    board = json.loads(render(report))["leaderboard"]
    assert board == [{"name": "public accuracy", "value": comp.public, "order": "desc"}]  # Gradescope ranks the highest first


def test_the_class_report_ranks_the_highest_accuracy_first():
    from grader.regrade.report import _standings

    rows = [{"student": name} for name in ("ann", "bob", "cy")]
    results = {
        name: {"competition": {"metric": "accuracy", "public": public, "private": None, "public_tier": "x"}}
        for name, public in (("ann", 0.4), ("bob", 0.8), ("cy", 0.6))
    }
    standings, metric = _standings(rows, results)
    assert metric == "accuracy" and [s.student for s in standings] == ["bob", "cy", "ann"]


def test_a_class_out_of_range_is_one_line_on_the_training_task(hw5_generous, zygote, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "phonemes.py").write_text(_constant_program(N_CLASSES))
    report = grade(hw5_generous, folder, zygote=zygote)
    written = next(c for c in report.checks if c.name == "writes a valid pred.csv")
    assert written.status == "fail"
    assert "line 2: class 41 is out of range; there are 41 classes, a whole number from 0 to 40" in written.message


def test_the_starter_reaches_simple_and_not_medium(hw5_generous, zygote, tmp_path):
    folder = tmp_path / "starter"
    folder.mkdir()
    shutil.copy(HW5 / "phonemes.py", folder / "phonemes.py")
    report = grade(hw5_generous, folder, zygote=zygote, reveal_private=True)
    comp = report.competition
    assert (comp.public_tier, comp.private_tier) == ("simple", "simple"), comp
    assert next(t for t in report.tasks if t.id == "training").score == hw5_generous.competition.code_points


def test_the_reference_cut_to_two_epochs_already_beats_medium(hw5_generous, zygote, tmp_path):
    """The full run (30 epochs) beats strong on both splits: README.md, benchmarks/."""
    folder = tmp_path / "reference"
    folder.mkdir()
    source = (REFERENCE / "phonemes.py").read_text()
    short, found = re.subn(r'"n_epochs": \d+,', '"n_epochs": 2,', source, count=1)
    assert found
    (folder / "phonemes.py").write_text(short)
    report = grade(hw5_generous, folder, zygote=zygote, reveal_private=True)
    comp = report.competition
    assert comp.public_tier in ("medium", "strong", "boss") and comp.private_tier in ("medium", "strong", "boss"), comp


def test_leaderboard_puts_the_highest_accuracy_first(tmp_path):
    labels = _rows(LABELS)
    perfect = tmp_path / "perfect.csv"
    perfect.write_text("\n".join(",".join(r) for r in labels) + "\n")
    zeros = tmp_path / "zeros.csv"
    zeros.write_text("Id,Class\n" + "".join(f"{r[0]},0\n" for r in labels[1:]))
    broken = tmp_path / "broken.csv"
    broken.write_text("Id,Class\n" + "".join(f"{r[0]},0.5\n" for r in labels[1:]))
    result = CliRunner().invoke(main, ["leaderboard", "hw5", "--root", str(REPO), "--format", "json", str(broken), str(zeros), str(perfect)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [e["submission"] for e in data["entries"]] == ["perfect", "zeros", "broken"]
    assert data["entries"][0]["public"] == 1.0 and data["entries"][0]["public_tier"] == "boss"
    assert data["entries"][1]["public_tier"] == "none"
    assert "line 2: '0.5' is not a whole number" in data["entries"][2]["problem"]
    table = CliRunner().invoke(main, ["leaderboard", "hw5", "--root", str(REPO), str(zeros), str(perfect)])
    assert "accuracy, higher is better" in table.output
    # the baselines fall where they rank: the hardest (highest) under the best submission
    where = [table.output.index(t) for t in ("perfect", "boss baseline", "strong baseline", "medium baseline", "simple baseline", "zeros")]
    assert where == sorted(where), table.output


# The manifest's classification keys.

BASE = """
title = "x"

[competition]
program = "p.py"
train = "data/train.csv"
test = "data/test.csv"
labels = "data/labels.csv"
target = "Class"
metric = "accuracy"
num_classes = 3
split_seed = 1

[[competition.baselines]]
name = "easy"
public = 0.4
private = 0.4

[[competition.baselines]]
name = "hard"
public = 0.8
private = 0.8
"""


def _load(tmp_path, text):
    folder = tmp_path / "assignments" / "hwx"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(text)
    return manifest.load(folder, tmp_path)


def test_a_classification_competition_loads(tmp_path):
    comp = _load(tmp_path, BASE).competition
    assert (comp.metric, comp.num_classes, comp.device, comp.higher_is_better) == ("accuracy", 3, "cpu", True)
    comp = _load(tmp_path, BASE.replace('"accuracy"', '"macro_f1"').replace("split_seed = 1", 'split_seed = 1\ndevice = "cuda"')).competition
    assert (comp.metric, comp.device, comp.classification) == ("macro_f1", "cuda", True)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("num_classes = 3\n", "", 'competition.num_classes is missing: metric "accuracy" scores class labels 0 .. num_classes - 1 (add `num_classes = ...`)'),
        ("num_classes = 3", "num_classes = 1", "competition.num_classes must be at least 2, got 1"),
        ("num_classes = 3", 'num_classes = "41"', 'competition.num_classes must be a whole number, got "41"'),
        ("num_classes = 3", "num_classes = 4.5", "competition.num_classes must be a whole number, got 4.5"),
        ("public = 0.8", "public = 0.3", "competition.baselines must go from easiest to hardest: each public score higher than the one before (higher accuracy is better), got [0.4, 0.3]"),
        ("public = 0.8", "public = 80", 'competition.baselines[1].public must be between 0 and 1 for "accuracy" (a fraction: 0.45, not 45), got 80.0'),
        ("split_seed = 1", "split_seed = 1\nmax_difference = 5", 'competition.max_difference is the share of rows whose classes may differ for "accuracy": between 0 and 1, got 5.0'),
        ("split_seed = 1", 'split_seed = 1\ndevice = "mps"', 'competition.device must be one of "cpu", "cuda", got "mps"'),
    ],
    ids=["num_classes_missing", "num_classes_one", "num_classes_text", "num_classes_fraction", "order", "percent", "max_difference", "device"],
)
def test_a_wrong_classification_key_is_one_line(tmp_path, old, new, expected):
    assert old in BASE
    with pytest.raises(ManifestError) as err:
        _load(tmp_path, BASE.replace(old, new, 1))
    assert "\n" not in str(err.value)
    assert str(err.value).endswith(expected), str(err.value)


def test_suggested_baselines_for_accuracy_rise_from_easiest_to_hardest():
    result = CliRunner().invoke(main, ["baselines", "hw5", "--root", str(REPO), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["models"]) == {"constant", "nearest class mean", "linear, every feature"}
    for split in ("public", "private"):
        bars = [b[split] for b in data["baselines"]]
        assert bars == sorted(bars) and len(set(bars)) == 4 and 0 < bars[0] and bars[-1] < 1
        # the first below the plainest learner, the last above the best closed-form fit
        assert bars[0] < data["models"]["nearest class mean"][split] and bars[-1] > data["models"]["linear, every feature"][split]


def test_the_release_check_finds_class_labels_beside_their_ids_and_not_by_chance(hw5, tmp_path):
    """Every file holds the labels 0..40 as numbers; a leak is the labels next to their ids."""
    from grader.release import leaks

    shutil.copytree(HW5 / "data", tmp_path / "data")
    assert leaks(hw5, tmp_path) == []  # the training file's own Id,Class pairs match only by chance
    test = _rows(HW5 / "data" / "phoneme.test.csv")
    labels = [r[1] for r in _rows(LABELS)]
    (tmp_path / "data" / "phoneme.test.csv").write_text("\n".join(",".join(r + [c]) for r, c in zip(test, labels)) + "\n")
    shutil.copy(LABELS, tmp_path / "answers.csv")
    found = leaks(hw5, tmp_path)
    assert any(f.startswith("answers.csv holds 4520 of the 4520 test labels beside their ids") for f in found), found
    assert any(f.startswith("data/phoneme.test.csv holds 4520 of the 4520") for f in found), found


def test_the_starter_programs_training_loop_is_not_a_leak(hw5, tmp_path):
    """Part B's starter trains a model, so it shares idioms with part A's loop solutions;
    a line the reference writes outside its solution blocks ships anyway."""
    from grader.release import leaks

    (tmp_path / "phonemes.py").write_text((HW5 / "phonemes.py").read_text())
    assert leaks(hw5, tmp_path) == []
    solution = (REFERENCE / "phonemes.py").read_text().split("# BEGIN SOLUTION")[2].split("# END SOLUTION")[0]
    (tmp_path / "leaked.py").write_text(solution)  # a solution block of the program itself still is one
    assert any(f.startswith("leaked.py contains a solution line") for f in leaks(hw5, tmp_path))

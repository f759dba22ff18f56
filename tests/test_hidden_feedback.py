"""``hidden_feedback``: what students see of hidden checks, in every output they see.

One real grading run of a submission that fails hidden checks; then each student-facing
format goes through the command line as CI runs it (the grading itself is that run's
report, handed back): the terminal of a run with a bundle, the job summary and
annotations, Classroom 50's result and release body, Gradescope's tests, the grading
reporter's payload and JUnit. None may show a hidden check's name, file, message or
value; ``--format json`` (the instructor's) shows them all.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import replace

import pytest
from click.testing import CliRunner

from grader import manifest, policy, release
from grader.cli import main
from grader.errors import ManifestError
from grader.platforms.classroom50 import result as c50
from grader.render import feedback
from grader.results import CheckResult
from tests.conftest import REPO

SOURCE = (REPO / "reference" / "hw2" / "layers.py").read_text()
# wrong values on mse's checks, public and hidden; softmax not written at all
SUBMISSION = SOURCE.replace("(diff * diff).mean(), 2", "(diff * diff).sum(), 2") + (
    "\n\ndef softmax(x):\n    raise NotImplementedError('softmax')\n"
)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The release (a student's clone, with the submission) and the bundle, both of hw2."""
    out = tmp_path_factory.mktemp("dist")
    student, bundle = release.ship(manifest.find("hw2", REPO), out)
    (student / "assignments" / "hw2" / "layers.py").write_text(SUBMISSION)
    return student, bundle


@pytest.fixture(scope="module")
def graded(course, zygote):
    from grader.bundle import locate
    from grader.grading import grade

    student, bundle = course
    return grade(locate("hw2", bundle), student / "assignments" / "hw2", hidden_dir=bundle / "reference" / "hw2", zygote=zygote)


@pytest.fixture(scope="module")
def secrets(graded, course):
    """What must not reach a student: hidden check names and file, their messages and the
    values in them (those no public message shows too)."""
    hw2 = manifest.find("hw2", REPO)
    names = release._hidden_check_names(hw2)
    hidden = [c for c in graded.checks if c.visibility == "hidden"]
    failed = [c for c in hidden if c.status in ("fail", "error")]
    public = [c.message for c in graded.checks if c.visibility != "hidden"]  # may say the same: it is public
    values = {n for c in failed for n in NUMBER.findall(c.message)} - {n for m in public for n in NUMBER.findall(m)}
    messages = {c.message for c in failed} - set(public)
    assert names and messages and values  # something to look for
    assert {feedback.kind(c) for c in failed} == {"wrong values", "not implemented or missing"}
    return names | {"test_layers_hidden.py"} | messages | values


def _cli(monkeypatch, graded, *args):
    """`grade hw2 ...` as CI runs it, with the grading already done."""
    import grader.grading

    monkeypatch.setattr(grader.grading, "grade", lambda *a, **k: graded)
    monkeypatch.setattr(policy, "probe", lambda *a, **k: ("namespaces", ""))
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _leaks(text: str, secrets: set[str]) -> list[str]:
    tokens = set(re.split(r"[^A-Za-z0-9_.\-]+", text))
    return sorted(s for s in secrets if s in tokens or (len(s) > 12 and s in text))


STUDENT_FACING = ["terminal", "actions", "classroom50", "gradescope", "github", "junit"]


@pytest.mark.parametrize("fmt", STUDENT_FACING)
def test_no_student_facing_output_shows_a_hidden_check(monkeypatch, graded, secrets, course, tmp_path, fmt):
    student, bundle = course
    out = tmp_path / "out.txt"
    result = _cli(monkeypatch, graded, "hw2", "--root", str(student), "--hidden", str(bundle), "--format", fmt, "-o", str(out))
    assert result.exit_code == 1, result.output
    text = out.read_text()
    if fmt == "github":  # the reporter's payload is base64: what it shows is inside
        pairs = dict(line.split("=", 1) for line in text.strip().splitlines())
        text = "\n".join(json.dumps(json.loads(base64.b64decode(pairs[r]))) for r in pairs["runners"].split(",")) + pairs["grader_summary"]
    if fmt == "classroom50":
        text += (tmp_path / c50.RELEASE_BODY).read_text()
    assert _leaks(text, secrets) == []
    assert "hidden checks:" in text and "wrong values" in text  # the summary of them is there
    if fmt == "gradescope":
        assert all(t["visibility"] == "visible" for t in json.loads(out.read_text())["tests"])


def test_the_instructors_json_keeps_every_detail(monkeypatch, graded, secrets, course):
    student, bundle = course
    result = _cli(monkeypatch, graded, "hw2", "--root", str(student), "--hidden", str(bundle), "--format", "json")
    assert len(_leaks(result.output, secrets)) == len(secrets)


def test_the_same_points_whatever_is_shown(graded):
    hw2 = manifest.find("hw2", REPO)
    for level in ("full", "summary", "none"):
        view = feedback.student_view(graded, replace(hw2, hidden_feedback=level))
        assert [t.score for t in view.tasks] == [t.score for t in graded.tasks]
        for task in view.tasks:
            counted = [c for c in task.checks if c.status != "skip"]
            assert sum(c.max_score for c in counted) == pytest.approx(task.points)
            assert sum(c.score for c in counted) == pytest.approx(task.score)


def test_full_names_hidden_checks_and_none_says_nothing_of_them(graded, secrets):
    hw2 = manifest.find("hw2", REPO)
    who = c50.identity({}, "hw2")
    full = c50.render(feedback.student_view(graded, replace(hw2, hidden_feedback="full")), who)
    assert _leaks(full, secrets)  # the instructor chose to show them
    none = c50.render(feedback.student_view(graded, replace(hw2, hidden_feedback="none")), who)
    assert _leaks(none, secrets) == [] and "wrong values" not in none and "hidden checks" in none


def test_hidden_feedback_is_checked_when_the_manifest_loads(tmp_path):
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw2", tmp_path / part / "hw2")
    toml = tmp_path / "assignments" / "hw2" / "assignment.toml"
    toml.write_text('hidden_feedback = "partial"\n' + toml.read_text())
    with pytest.raises(ManifestError, match=r'hidden_feedback must be one of "full", "summary", "none", got "partial"'):
        manifest.find("hw2", tmp_path)
    toml.write_text(toml.read_text().replace('"partial"', '"none"'))
    assert manifest.find("hw2", tmp_path).hidden_feedback == "none"
    assert manifest.find("hw2", REPO).hidden_feedback == "summary"  # the default


@pytest.mark.parametrize(
    "message, kind",
    [
        ("`relu_forward` took longer than 10 s (the time limit per call) and was stopped", "time limit"),
        ("the process running `mse_loss` was killed by signal 9", "crash"),
        ("`mse_loss` raised ValueError: bad (the worker's memory limit was reached)", "crash"),
        ("`softmax` is not implemented yet", "not implemented or missing"),
        ("`softmax` is not defined in layers.py", "not implemented or missing"),
        ("dx has shape (3, 4) but should have shape (4, 3)", "wrong shape, dtype or type"),
        ("out has dtype torch.float32 but should have torch.float64", "wrong shape, dtype or type"),
        ("`softmax` raised IndexError: index 9 is out of bounds", "raised an exception"),
        ("layers.py has a syntax error in line 31: invalid syntax", "raised an exception"),
        ("layers.py has a syntax error at line 31: invalid syntax", "raised an exception"),
        ("loss is wrong at index (0,): got 1.5, expected 0.25 (absolute error 1.25, relative error 5)", "wrong values"),
        ("`mlp_loss` used an API its task forbids: torch.autograd.grad (the whole task scores 0)", "forbidden API"),
    ],
)
def test_each_kind_of_failure_is_named(message, kind):
    check = CheckResult(nodeid="x", name="x", task="t", status="fail", message=message, visibility="hidden", duration=0.0)
    assert feedback.kind(check) == kind

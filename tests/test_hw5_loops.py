"""hw5's loops as shipped: the mistakes students make in training code, each caught on
its own task through the drivers; correct code in another style gets full marks."""

from __future__ import annotations

import shutil

import pytest

from grader import manifest
from grader.grading import grade
from tests.conftest import REPO, task_points, task_scores
from tests.variants import function_text, replace_function

REFERENCE = (REPO / "reference" / "hw5" / "loops.py").read_text()
LOOP_TASKS = ("loaders", "train_epoch", "evaluate", "checkpoint")
FUNCTION_TASKS = {t.id for t in manifest.find("hw5", REPO).tasks if t.kind == "checks"}  # Part B's run is not graded here


@pytest.fixture(scope="module")
def hw5():
    return manifest.find("hw5", REPO)


@pytest.fixture
def grade_loops(hw5, zygote, tmp_path):
    """Grades a loops.py beside the reference's other files (checks only): every other
    task must keep its full marks, and nothing fails that a loop mistake did not cause."""

    def run(source: str):
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        for name in hw5.files:
            shutil.copy(hw5.reference_dir / name, folder / name)
        (folder / "loops.py").write_text(source)
        return grade(hw5, folder, zygote=zygote, run_program=False)

    return run


# mistake -> (its task, the function it is made in, [(the line(s) replaced, the replacement)])
MISTAKES = {
    "no_zero_grad": ("train_epoch", "train_epoch", [("        optimizer.zero_grad()\n", "")]),
    "no_model_train": ("train_epoch", "train_epoch", [("    model.train()\n", "")]),
    "train_loss_averaged_per_batch": ("train_epoch", "train_epoch", [
        ("        total_loss += loss.item() * len(y)\n", "        total_loss += loss.item()\n"),
        ("    return total_loss / count, correct / count\n", "    return total_loss / len(loader), correct / count\n"),
    ]),
    "no_model_eval": ("evaluate", "evaluate", [("    model.eval()\n", "")]),
    "eval_loss_averaged_per_batch": ("evaluate", "evaluate", [
        ("            total_loss += loss_fn(logits, y).item() * len(y)\n", "            total_loss += loss_fn(logits, y).item()\n"),
        ("    return total_loss / count, correct / count\n", "    return total_loss / len(loader), correct / count\n"),
    ]),
    "eval_with_gradients_on": ("evaluate", "evaluate", [("    with torch.no_grad():\n", "    with torch.enable_grad():\n")]),
    "shuffled_test_loader": ("loaders", "make_loaders", [("batch_size=batch_size, shuffle=False)", "batch_size=batch_size, shuffle=True)")]),
    "train_loader_not_shuffled": ("loaders", "make_loaders", [("shuffle=True, generator=generator)", "shuffle=False)")]),
    "train_loader_drops_the_last_batch": ("loaders", "make_loaders", [("shuffle=True, generator=generator)", "shuffle=True, generator=generator, drop_last=True)")]),
    "checkpoint_without_the_optimizer": ("checkpoint", "save_checkpoint", [
        ('"optimizer": optimizer.state_dict(), ', '"optimizer": torch.optim.Adam(model.parameters()).state_dict(), '),
    ]),
    "checkpoint_of_the_model_object": ("checkpoint", "save_checkpoint", [('{"model": model.state_dict(), ', '{"model": model.state_dict(), "object": model, ')]),
    "checkpoint_epoch_off_by_one": ("checkpoint", "load_checkpoint", [('    return checkpoint["epoch"]\n', '    return checkpoint["epoch"] + 1\n')]),
}  # fmt: skip


def _mistake(case: str) -> tuple[str, str]:
    task, function, edits = MISTAKES[case]
    body = function_text(REFERENCE, function)
    for old, new in edits:
        assert body.count(old) == 1, (case, old)
        body = body.replace(old, new)
    return task, replace_function(REFERENCE, function, body)


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_loses_points_on_its_own_task(grade_loops, case):
    task, source = _mistake(case)
    report = grade_loops(source)
    scores, full = task_scores(report), task_points(report)
    assert scores[task] < full[task], (case, scores)
    assert all(scores[t] == full[t] for t in FUNCTION_TASKS if t != task), (case, scores)
    if case in EXPLAINED:  # the hidden checks say what went wrong, in the loop's terms
        failed = [c for c in report.checks if c.task == task and c.status == "fail" and c.visibility == "hidden"]
        assert failed and all(EXPLAINED[case] in c.message for c in failed), [c.message for c in failed]


EXPLAINED = {"no_zero_grad": "gradients were never cleared", "shuffled_test_loader": "shuffled test loader"}


def test_reference_full_marks_and_stubs_zero_on_the_loops(hw5, grade_loops):
    report = grade_loops(REFERENCE)
    scores, full = task_scores(report), task_points(report)
    assert all(scores[t] == full[t] for t in LOOP_TASKS), scores
    stub = task_scores(grade_loops((hw5.directory / "loops.py").read_text()))
    assert all(stub[t] == 0 for t in LOOP_TASKS), stub


def test_another_correct_style_gets_full_marks(grade_loops):
    report = grade_loops((REPO / "tests" / "submissions" / "hw5_loops_other_style.py").read_text())
    scores, full = task_scores(report), task_points(report)
    assert all(scores[t] == full[t] for t in LOOP_TASKS), [(c.name, c.message) for c in report.checks if c.status == "fail"]


def test_forging_what_the_drivers_saw_earns_nothing_where_the_work_is(grade_loops):
    """Rewriting the driver's records (its globals, its Watch) wins no checkpoint points:
    the file is loaded in a fresh worker and its values compared here; and a missing
    model.train() still costs train_epoch, whatever the record says."""
    report = grade_loops((REPO / "tests" / "submissions" / "hw5_loops_forged.py").read_text())
    scores, full = task_scores(report), task_points(report)
    assert scores["checkpoint"] == 0, scores
    assert scores["train_epoch"] < full["train_epoch"], scores
    assert scores["loaders"] == full["loaders"] and scores["evaluate"] == full["evaluate"], scores

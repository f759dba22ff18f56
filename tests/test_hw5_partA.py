"""hw5 Part A (dropout, weight decay, accuracy, k-fold) as shipped: full marks for correct
code in any style, 0 for the stubs, each named mistake caught on its own task and no
other, and the library's dropout off limits in the dropout tasks.

Graded on a copy of hw5 that keeps only these five tasks and their check files, so the
training loops' and the competition's work (tested elsewhere) costs nothing here."""

from __future__ import annotations

import re
import shutil

import pytest

from grader import manifest
from tests.conftest import REPO, task_points, task_scores

FILES = ("regularization.py", "validation.py")
CHECKS = {"assignments": ("test_regularization.py", "test_validation.py"),
          "reference": ("test_regularization_hidden.py", "test_validation_hidden.py")}  # fmt: skip
REFERENCE = {f: (REPO / "reference" / "hw5" / f).read_text() for f in FILES}
OTHER_STYLE = (REPO / "tests" / "submissions" / "hw5_partA_other_style.py").read_text()
TASKS = {"dropout_forward", "dropout_backward", "l2_penalty", "accuracy", "kfold"}


def part_a_manifest(text: str) -> str:
    """hw5's manifest with only the tasks of FILES (and no table after them)."""
    head, *blocks = text.split("[[tasks]]")
    kept = []
    for block in blocks:
        block = re.split(r"\n\[(?!\[)", block)[0]  # a [competition] (or any) table after the last task
        if re.search(r'^file = "(' + "|".join(re.escape(f) for f in FILES) + r')"', block, re.M):
            kept.append("[[tasks]]" + block)
    return head + "".join(kept)


def copy_part_a(root, *, rules: bool = True):
    """A copy of hw5 under ``root`` with only Part A's tasks and check files; without
    its forbidden rules when ``rules`` is False."""
    for side in ("assignments", "reference"):
        src, dst = REPO / side / "hw5", root / side / "hw5"
        (dst / "tests").mkdir(parents=True)
        for f in FILES:
            shutil.copy(src / f, dst / f)
        for f in CHECKS[side]:
            shutil.copy(src / "tests" / f, dst / "tests" / f)
    text = part_a_manifest((REPO / "assignments" / "hw5" / "assignment.toml").read_text())
    if not rules:
        text = re.sub(r"^forbidden = .*\n", "", text, flags=re.M)
    (root / "assignments" / "hw5" / "assignment.toml").write_text(text)
    assignment = manifest.find("hw5", root)
    assert {t.id for t in assignment.tasks} == TASKS
    assert all(bool(t.forbidden) == (rules and t.id.startswith("dropout")) for t in assignment.tasks)
    return assignment


@pytest.fixture(scope="module")
def hw5a(tmp_path_factory):
    return copy_part_a(tmp_path_factory.mktemp("hw5a"))


@pytest.fixture
def grade_hw5a(hw5a, zygote, tmp_path):
    """Grades the two files given (the reference's where one is not given)."""
    from grader.grading import grade

    def run(assignment=hw5a, **sources):
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        for f in FILES:
            (folder / f).write_text(sources.get(f.removesuffix(".py"), REFERENCE[f]))
        return grade(assignment, folder, zygote=zygote)

    return run


def _failures(report):
    return [(c.name, c.message) for c in report.checks if c.status in ("fail", "error")]


def test_the_manifest_copy_keeps_the_tasks_and_drops_what_follows():
    text = '''title = "t"\n[limits]\ncall_timeout = 10\n\n[[tasks]]\nid = "a"\nfile = "regularization.py"\n\n# a comment\n[[tasks]]\nid = "b"\nfile = "loops.py"\n\n[[tasks]]\nid = "c"\nfile = "validation.py"\n\n[competition]\nprogram = "phonemes.py"\n[competition.baselines]\nsimple = 1\n'''  # fmt: skip
    kept = part_a_manifest(text)
    assert 'id = "a"' in kept and 'id = "c"' in kept and "[limits]" in kept
    assert "loops.py" not in kept and "competition" not in kept and "phonemes" not in kept


def test_the_reference_scores_full_marks(grade_hw5a):
    report = grade_hw5a()
    assert report.score == report.max_score == 9, _failures(report)


def test_the_stubs_score_zero(hw5a, zygote):
    from grader.grading import grade

    report = grade(hw5a, hw5a.directory, zygote=zygote)
    assert task_scores(report) == {t: 0 for t in TASKS}, task_scores(report)


def test_a_correct_solution_in_another_style_scores_full_marks(hw5a, zygote, tmp_path):
    from grader.grading import grade

    path = tmp_path / "solution.py"  # one file that is not a student file's name provides every one
    path.write_text(OTHER_STYLE)
    report = grade(hw5a, path, zygote=zygote)
    assert report.score == report.max_score == 9, _failures(report)


# (file, task, the reference's code, the mistake)
MISTAKES = {
    # dropout forward
    "dropout_without_1_over_1_minus_p": ("regularization", "dropout_forward", "    return x * mask / (1 - p), (mask, p)\n", "    return x * mask, (mask, p)\n"),
    "dropout_active_in_eval": ("regularization", "dropout_forward", '    if mode == "eval":\n        return x, (None, p)\n', '    if mode == "eval":\n        mode = "train"\n'),
    "dropout_keeps_with_probability_p": ("regularization", "dropout_forward", "generator=generator, device=x.device) >= p\n", "generator=generator, device=x.device) < p\n"),
    "dropout_one_draw_per_row": ("regularization", "dropout_forward", "    mask = torch.rand(x.shape, generator=generator, device=x.device) >= p",
                                 "    mask = torch.rand((*x.shape[:-1], 1), generator=generator, device=x.device).expand(x.shape) >= p"),
    "dropout_ignores_the_seed": ("regularization", "dropout_forward", ".manual_seed(seed)\n", ".manual_seed(0)\n"),
    "dropout_from_the_global_generator": ("regularization", "dropout_forward", "    mask = torch.rand(x.shape, generator=generator, device=x.device)",
                                          "    mask = torch.rand(x.shape, device=x.device)"),
    "dropout_accepts_p_one": ("regularization", "dropout_forward", "    if not 0 <= p < 1:\n", "    if not 0 <= p <= 1:\n"),
    # dropout backward
    "backward_draws_a_new_mask": ("regularization", "dropout_backward", "    mask, p = cache\n",
                                  "    mask, p = torch.rand(dout.shape, device=dout.device) >= cache[1], cache[1]\n"),
    "backward_without_1_over_1_minus_p": ("regularization", "dropout_backward", "    return dout * mask / (1 - p)\n", "    return dout * mask\n"),
    # weight decay
    "weight_decay_applied_to_biases": ("regularization", "l2_penalty", '        if name.endswith("weight"):\n', '        if name.endswith(("weight", "bias")):\n'),
    "decay_without_the_half": ("regularization", "l2_penalty", "    return weight_decay / 2 * loss, grads\n", "    return weight_decay * loss, grads\n"),
    "gradient_without_weight_decay": ("regularization", "l2_penalty", "            grads[name] = weight_decay * w\n", "            grads[name] = w\n"),
    "gradient_twice_too_large": ("regularization", "l2_penalty", "            grads[name] = weight_decay * w\n", "            grads[name] = 2 * weight_decay * w\n"),
    "bias_missing_from_grads": ("regularization", "l2_penalty", "            grads[name] = torch.zeros_like(w)\n", "            pass\n"),
    # accuracy
    "accuracy_on_the_wrong_axis": ("validation", "accuracy", "logits.argmax(dim=1)", "logits.argmax(dim=0)"),
    "accuracy_counts_every_tie_right": ("validation", "accuracy", "(logits.argmax(dim=1) == y)",
                                        "(logits.gather(1, y[:, None]).squeeze(1) == logits.max(dim=1).values)"),
    "accuracy_a_count_not_a_fraction": ("validation", "accuracy", ".double().mean().item()", ".double().sum().item()"),
    # k-fold
    "validation_fold_overlaps_training": ("validation", "kfold", "        train = torch.cat([f for j, f in enumerate(folds) if j != i])\n", "        train = perm\n"),
    "folds_uneven_by_more_than_one": ("validation", "kfold", "    folds = torch.tensor_split(perm, k)\n",
                                      "    size = n // k\n    folds = [perm[i * size:(i + 1) * size] for i in range(k - 1)] + [perm[(k - 1) * size:]]\n"),
    "a_sample_validated_twice": ("validation", "kfold", "    folds = torch.tensor_split(perm, k)\n",
                                 "    size = -(-n // k)\n    folds = [perm[i * size:(i + 1) * size] for i in range(k - 1)] + [perm[n - size:]]\n"),
    "folds_not_shuffled": ("validation", "kfold", "    perm = torch.randperm(n, generator=g)\n", "    perm = torch.arange(n)\n"),
    "kfold_accepts_k_above_n": ("validation", "kfold", "    if not 2 <= k <= n:\n", "    if not 2 <= k:\n"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_loses_points_on_its_own_task(grade_hw5a, case):
    module, task, old, new = MISTAKES[case]
    source = REFERENCE[module + ".py"]
    assert source.count(old) == 1, old  # the code, not a docstring
    report = grade_hw5a(**{module: source.replace(old, new, 1)})
    scores, full = task_scores(report), task_points(report)
    assert scores[task] < full[task], scores
    assert all(v == full[k] for k, v in scores.items() if k != task), scores


FORWARD_TAIL = "    mask = torch.rand(x.shape, generator=generator, device=x.device) >= p\n    return x * mask / (1 - p), (mask, p)\n"


def _seeded(call: str) -> str:
    """A forward that would pass every check but uses the library's dropout: seeded globally,
    its mask read back off the output."""
    return f"    torch.manual_seed(seed)\n    out = {call}\n    return out, (out != 0, p)\n"


LIBRARY_DROPOUT = {
    "functional": ("torch.nn.functional.dropout", _seeded("torch.nn.functional.dropout(x, p, training=True)")),
    "functional_alias": ("torch.nn.functional.dropout", "    import torch.nn.functional as F\n" + _seeded("F.dropout(x, p)")),
    "module": ("torch.nn.functional.dropout", _seeded("torch.nn.Dropout(p)(x)")),
    "torch_dropout": ("torch.dropout", _seeded("torch.dropout(x, p, True)")),
    "torch_dropout_hidden_name": ("torch.dropout", _seeded("getattr(torch, 'drop' + 'out')(x, p, True)")),
    "functional_hidden_name": ("torch.nn.functional.dropout", _seeded("getattr(torch.nn.functional, 'drop' + 'out')(x, p)")),
    "module_hidden_name": ("torch.nn.functional.dropout", _seeded("getattr(torch.nn, 'Drop' + 'out')(p)(x)")),
    "native_dropout": ("torch.native_dropout", _seeded("getattr(torch, 'native_' + 'dropout')(x, p, True)[0]")),
    "feature_dropout": ("torch.feature_dropout", _seeded("getattr(torch, 'feature_' + 'dropout')(x, p, True)")),  # elementwise on 2-D x
    "aten_op": ("torch.ops.aten.dropout", _seeded("torch.ops.aten.dropout(x, p, True)")),  # found by reading the source
    "imported_module": ("torch.nn.Dropout", "    from torch.nn import Dropout\n" + _seeded("Dropout(p)(x)")),
    "variable_functions": ("torch._VF.dropout", _seeded("getattr(torch._VF, 'drop' + 'out')(x, p, True)")),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(LIBRARY_DROPOUT))
def test_the_library_dropout_zeroes_the_forward_task_only(grade_hw5a, case):
    api, code = LIBRARY_DROPOUT[case]
    source = REFERENCE["regularization.py"]
    assert source.count(FORWARD_TAIL) == 1
    report = grade_hw5a(regularization=source.replace(FORWARD_TAIL, code, 1))
    scores, full = task_scores(report), task_points(report)
    assert scores["dropout_forward"] == 0, scores
    assert all(v == full[k] for k, v in scores.items() if k != "dropout_forward"), scores
    said = [c.message for c in report.checks if c.violation]
    assert any(api in m for m in said), said


def test_a_seeded_library_dropout_would_pass_every_check_but_the_rule(grade_hw5a, tmp_path):
    """The premise of the test above: without the rule, the seeded library dropout scores
    full marks, so what zeroes it there is the guard and nothing else."""
    source = REFERENCE["regularization.py"].replace(FORWARD_TAIL, _seeded("torch.dropout(x, p, True)"), 1)
    report = grade_hw5a(copy_part_a(tmp_path / "free", rules=False), regularization=source)
    assert report.score == report.max_score, _failures(report)


@pytest.mark.parametrize(
    "code, found",
    [
        ("    return nn.Dropout(p)(x)\n", ["torch.nn.Dropout"]),
        ("    return F.dropout2d(x, p)\n", ["torch.nn.functional.dropout2d"]),
        ("    return torch.feature_dropout(x, p, True)\n", ["torch.feature_dropout"]),
        ("    return torch.ops.aten.native_dropout.default(x, p, True)[0]\n", ["torch.ops.aten.native_dropout.default"]),
        ("    return torch._C._VariableFunctions.dropout(x, p, True)\n", ["torch._C._VariableFunctions.dropout"]),
        ("    return torch.nn.modules.dropout.Dropout(p)(x)\n", ["torch.nn.modules.dropout.Dropout"]),
        ("    return x * torch.bernoulli(torch.full_like(x, 1 - p)) / (1 - p)\n", []),  # a mask drawn by hand
        ("    return F.relu(x)\n", []),  # the rest of torch.nn.functional is not part of the rule
    ],
    ids=["module", "dropout2d", "kernel", "aten_op", "variable_functions", "module_by_path", "by_hand", "relu"],
)  # fmt: skip
def test_reading_the_source_finds_the_library_dropout_in_every_form(code, found):
    from grader.static_checks import forbidden_uses

    source = "import torch\nimport torch.nn as nn\nfrom torch.nn import functional as F\n\n\ndef dropout_forward(x, p, mode, seed):\n" + code
    uses = forbidden_uses(source, ("dropout_forward",), ("torch.nn.functional.dropout",))
    assert [u.api for u in uses] == found

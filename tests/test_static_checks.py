"""The forbidden-API reader: names resolved through imports, aliases and constant lookups."""

from __future__ import annotations

import pytest

from grader.static_checks import forbidden_uses

GROUPS = ("torch.autograd", "Tensor.backward", "torch.nn.functional", "torch.func")


def uses(source: str, functions=("f",), others=frozenset()):
    return [(u.line, u.api, u.function) for u in forbidden_uses(source, functions, GROUPS, frozenset(others))]


@pytest.mark.parametrize(
    "source, api",
    [
        ("import torch\ndef f(x):\n    return torch.autograd.grad(x, x)\n", "torch.autograd.grad"),
        ("import torch as t\ndef f(x):\n    return t.autograd.grad(x, x)\n", "torch.autograd.grad"),
        ("from torch.autograd import grad as g\ndef f(x):\n    return g(x, x)\n", "torch.autograd.grad"),
        ("import torch.nn.functional as F\ndef f(x):\n    return F.relu(x)\n", "torch.nn.functional.relu"),
        ("from torch.nn import functional\ndef f(x):\n    return functional.relu(x)\n", "torch.nn.functional.relu"),
        ("import torch\nag = torch.autograd\ndef f(x):\n    return ag.grad(x, x)\n", "torch.autograd.grad"),
        ("import torch\ndef f(x):\n    return getattr(torch, 'autograd').grad(x, x)\n", "torch.autograd.grad"),
        ("import importlib\ndef f(x):\n    return importlib.import_module('torch.func').vjp\n", "torch.func.vjp"),
        ("def f(x):\n    import torch.func as tf\n    return tf.grad(x)\n", "torch.func.grad"),
        ("def f(x):\n    x.backward()\n", "backward"),
        ("import torch\ndef f(x):\n    with torch.enable_grad():\n        pass\n", "torch.enable_grad"),
    ],
    ids=["plain", "alias_module", "from_import_as", "functional_alias", "from_nn_import", "assigned_alias",
         "getattr_constant", "import_module_constant", "local_import", "tensor_backward", "enable_grad"],
)  # fmt: skip
def test_forbidden_use_is_found_with_its_line(source, api):
    found = uses(source)
    assert found and api in found[0][1], found
    lines = source.splitlines()
    start = next(i for i, text in enumerate(lines) if text.startswith("def f"))
    # the first statement of f that is not an import
    line = next(i for i, text in enumerate(lines[start + 1 :], start + 2) if not text.strip().startswith(("import", "from")))
    assert found[0][0] == line, found


def test_allowed_code_is_clean():
    source = "import torch\nimport torch.nn.functional as F\ndef f(x):\n    return torch.relu(x) * 2\n"
    assert uses(source) == []


def test_helpers_are_followed_but_other_tasks_are_not():
    source = (
        "import torch\n"
        "def helper(x):\n    return torch.autograd.grad(x, x)\n"
        "def other_task(x):\n    return torch.func.grad(x)\n"
        "def f(x):\n    helper(x)\n    return other_task(x)\n"
    )
    found = uses(source, others={"other_task"})
    assert [(api, fn) for _, api, fn in found] == [("torch.autograd.grad", "helper")]


def test_unused_imports_are_not_uses():
    assert uses("import torch.nn.functional as F\nfrom torch.autograd import grad\ndef f(x):\n    return x\n") == []


@pytest.mark.parametrize(
    "source",
    [
        "import torch\nBOMB = " + "-" * 200_000 + "1\ndef dropout_forward(x, p, mode, seed):\n    return x, None\n",
        "import torch\ndef dropout_forward(x, p, mode, seed):\n    return torch" + ".a" * 5000 + "\n",
    ],
    ids=["parser_too_deep", "attribute_chain_too_deep"],
)
def test_a_source_too_deep_to_read_zeroes_the_task_in_one_line(source, tmp_path):
    """The reader runs in the trusted process: a file nested past its recursion limit
    fails the task that forbids something (it cannot be cleared), never the grader."""
    from grader import manifest, submission
    from grader.static_checks import static_checks
    from tests.conftest import REPO

    hw5 = manifest.find("hw5", REPO)
    (tmp_path / "regularization.py").write_text(source)
    sub = submission.load(tmp_path / "regularization.py", hw5)
    found = {c.task: c for c in static_checks(hw5, sub)}
    assert found["dropout_forward"].status == "fail" and found["dropout_forward"].violation
    assert "is too deeply nested for the grader to read it" in found["dropout_forward"].message, found["dropout_forward"].message

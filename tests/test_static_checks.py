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

"""The plugin through real pytest runs (pytester): markers, fixtures, messages."""

from __future__ import annotations

import textwrap

MANIFEST = """title = "Tiny"
[limits]
call_timeout = 2
[[tasks]]
id = "double"
points = 2
file = "mod.py"
functions = ["double", "triple"]
"""


def _assignment(pytester, student_source, checks):
    pytester.makefile(".toml", **{"assignments/tiny/assignment": MANIFEST})
    pytester.makepyfile(**{"assignments/tiny/mod": student_source})
    pytester.makepyfile(**{"assignments/tiny/tests/test_tiny": textwrap.dedent(checks)})
    return pytester.path / "assignments" / "tiny"


CHECKS = """
import pytest, torch
from grader.checks import assert_close

@pytest.mark.task("double")
def test_double(student):
    assert_close(student.double(torch.ones(2)), torch.full((2,), 2.0))

@pytest.mark.task("double")
def test_triple(student):
    assert_close(student.triple(torch.ones(2)), torch.full((2,), 3.0))

def test_no_task(student):
    student.double(torch.ones(1))

@pytest.mark.task("nope")
def test_unknown_task(student):
    pass
"""


def test_plain_pytest_run_in_an_assignment(pytester):
    folder = _assignment(pytester, "def double(x):\n    return x * 2\n", CHECKS)
    result = pytester.runpytest_subprocess(str(folder / "tests"), "-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, failed=1, errors=2)
    result.stdout.fnmatch_lines(["*`triple` is not defined in mod.py*"])
    result.stdout.fnmatch_lines(["*has no @pytest.mark.task(...) marker*"])
    result.stdout.fnmatch_lines(["*names task 'nope', which assignment.toml does not list*"])


def test_not_implemented_reads_as_such(pytester):
    folder = _assignment(pytester, "def double(x):\n    raise NotImplementedError\n", CHECKS)
    result = pytester.runpytest_subprocess(
        str(folder / "tests"), "-p", "no:cacheprovider", "--grader-assignment", str(folder), "-k", "test_double", "-rA"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*`double` is not implemented yet*"])
    assert "Traceback" not in result.stdout.str()


def test_a_hidden_checks_seed_tells_nothing_of_its_name(tmp_path, zygote):
    """Student code can read the seed its call runs under (torch.initial_seed()). A public
    check's seed is the crc32 of its id, so anyone can reproduce its data; a hidden check's
    is keyed with its file, so a guessed hidden name cannot be confirmed against it."""
    import zlib

    from grader import manifest
    from grader.grading import grade

    root = tmp_path / "course"
    folder, reference = root / "assignments" / "tiny", root / "reference" / "tiny"
    (folder / "tests").mkdir(parents=True)
    (reference / "tests").mkdir(parents=True)
    (folder / "assignment.toml").write_text(MANIFEST)
    source = "def double(x):\n    import torch\n    return torch.initial_seed()\n\ndef triple(x):\n    return 3 * x\n"
    (folder / "mod.py").write_text(source)
    (reference / "mod.py").write_text(source)
    check = 'import pytest\n\n@pytest.mark.task("double")\ndef test_{}(student):\n    assert False, f"seed={{student.double(1)}}"\n'
    (folder / "tests" / "test_public.py").write_text(check.format("seen"))
    (reference / "tests" / "test_hidden.py").write_text(check.format("secret_name"))
    report = grade(manifest.find("tiny", root), folder, zygote=zygote)
    seeds = {c.name: int(c.message.split("seed=")[1].split()[0]) for c in report.checks if "seed=" in c.message}
    crc = lambda nodeid: zlib.crc32(nodeid.encode()) & 0x7FFFFFFF  # noqa: E731
    assert seeds["test_seen"] == crc("assignments/tiny/tests/test_public.py::test_seen"), seeds
    assert seeds["test_secret_name"] != crc("reference/tiny/tests/test_hidden.py::test_secret_name"), seeds

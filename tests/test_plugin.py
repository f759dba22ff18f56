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

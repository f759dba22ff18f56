"""As root, grading reads the definition and the hidden material from a 0700 copy."""

from __future__ import annotations

import os
import stat

import pytest

from grader import private_copy
from grader.session import hidden_paths

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the private copy is made only when the grader runs as root")


def test_the_copy_is_private_and_the_originals_untouched(hw1):
    before = {p: p.stat().st_mode for p in hw1.reference_dir.rglob("*")}
    copy, hidden = private_copy.private(hw1, hw1.reference_dir)
    base = copy.directory.parent.parent
    info = base.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == 0
    assert copy.directory != hw1.directory and hidden == base / "reference" / "hw1"
    assert (hidden / "regression.py").read_text() == (hw1.reference_dir / "regression.py").read_text()
    assert {p: p.stat().st_mode for p in hw1.reference_dir.rglob("*")} == before


def test_an_edited_check_is_copied_afresh(hw1, tmp_path):
    first, _ = private_copy.private(hw1, None)
    check = next(hw1.public_tests.glob("test_*.py"))
    original = check.read_text()
    try:
        check.write_text(original + "\n# edited\n")
        second, _ = private_copy.private(hw1, None)
        assert second.directory != first.directory
        assert "# edited" in (second.public_tests / check.name).read_text()
    finally:
        check.write_text(original)


def test_the_instructors_folders_stay_protected(hw1):
    copy, hidden = private_copy.private(hw1, None)
    protected = hidden_paths(copy, hidden)
    assert str(hw1.reference_dir) in protected and str(copy.reference_dir) in protected

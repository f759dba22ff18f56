"""The README's two commands, as a new user follows them on a stock Debian machine.

``.ci/run`` installs the way the README's first command does and then runs exactly its
second, the test command. Here the first runs literally too: as a user who is not root,
with Debian's ``/usr/bin/python3`` (PEP 668: no bare ``pip install``), in a scratch copy of
the checkout that this user owns, as a student's clone would be; ``grade hw2 --reference``
then gives full marks.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_tiers import TEST_USER, _ensure_user

SECTION = "## On a fresh machine"
SYSTEM_PYTHON = "/usr/bin/python3"
GRADE_HW1 = " && .venv/bin/grade hw1"


def _section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


def readme_commands() -> tuple[str, str]:
    """(the first command: install and grade hw1, the second: run the tests)."""
    blocks = re.findall(r"```bash\n(.*?)\n```", _section(), re.S)
    return blocks[0].strip(), blocks[1].strip()


def test_ci_installs_as_the_readme_says_and_runs_its_test_command():
    install, tests = readme_commands()
    assert install.startswith("python3 -m venv .venv && ") and install.endswith(GRADE_HW1)
    assert "python -m pytest" in tests and tests.endswith(" tests")
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install.removesuffix(GRADE_HW1) in lines  # `grade hw1` exits 1 on the stubs, by design
    assert lines[-1] == tests  # the last thing CI does, so its status is CI's


def test_readme_says_how_to_get_the_cpu_build_on_each_platform():
    section = _section()
    blocks = re.findall(r"```(\w+)\n(.*?)\n```", section, re.S)
    cpu = [body for lang, body in blocks if "--index-url https://download.pytorch.org/whl/cpu" in body]
    assert any(lang == "bash" for lang, body in blocks if body in cpu), "a Linux command with PyTorch's CPU index"
    (powershell,) = [body for lang, body in blocks if lang == "powershell"]
    assert powershell in cpu and ".venv\\Scripts\\grade hw1" in powershell
    assert "macOS" in section
    # one torch release everywhere: the README's commands, CI here and the workflow
    workflow = (REPO / ".github" / "workflows" / "tests.yml").read_text(encoding="utf-8")
    pins = set(re.findall(r"torch==[\w.+]+", section + (REPO / ".ci" / "run").read_text() + workflow))
    assert len(pins) == 1, pins


def _as_new_user() -> tuple[list[str], str, pwd.struct_passwd | None]:
    """(the command prefix that runs as a user who is not root, their home, the account to
    hand the scratch copy to, or None when this run is already such a user)."""
    if os.geteuid() != 0:
        return [], os.path.expanduser("~"), None
    why = _ensure_user()
    if why:
        pytest.skip(why)
    user = pwd.getpwnam(TEST_USER)
    return ["runuser", "-u", TEST_USER, "--"], user.pw_dir, user


def _copy_checkout(target: Path) -> None:
    """What a clone of this checkout holds (tracked files and new ones git does not ignore)."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True
    )
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout, so no clone to copy: {listed.stderr.decode().strip()}")
    for rel in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / rel
        if source.is_file() or source.is_symlink():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel, follow_symlinks=False)


@pytest.mark.slow
def test_the_readme_install_works_for_a_new_user_with_debians_python():
    if not sys.platform.startswith("linux"):
        pytest.skip("the README's first command is checked on Linux, with Debian's /usr/bin/python3")
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} is missing: this check follows the README on a stock Debian or Ubuntu")
    if subprocess.run([SYSTEM_PYTHON, "-c", "import ensurepip, venv"], capture_output=True).returncode != 0:
        pytest.skip(f"{SYSTEM_PYTHON} cannot make a virtual environment with pip (Debian: apt-get install python3-venv)")
    prefix, home, owner = _as_new_user()
    install, _ = readme_commands()
    # a stock user's environment: the system's python3 first; the machine's pip settings kept
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    env |= {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower() in ("http_proxy", "https_proxy", "no_proxy")}
    as_user = [*prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items())]
    scratch = Path(tempfile.mkdtemp(prefix="grader-readme-", dir="/tmp"))  # not the suite's 0700 tmp_path
    try:
        checkout = scratch / "torch-grader"
        _copy_checkout(checkout)
        if owner is not None:
            subprocess.run(["chown", "-R", f"{owner.pw_uid}:{owner.pw_gid}", str(scratch)], check=True)
        first = subprocess.run([*as_user, "bash", "-c", install], cwd=checkout, capture_output=True, text=True, timeout=1800)
        shown = f"{first.stdout[-4000:]}\n{first.stderr[-4000:]}"
        # grade hw1 ran and reported: the stubs fail their checks (exit 1), nothing crashed
        assert first.returncode == 1 and "Score: " in first.stdout, shown
        assert "Traceback" not in first.stdout + first.stderr, shown
        assert "home = /usr/bin" in (checkout / ".venv" / "pyvenv.cfg").read_text()  # Debian's python3 made it
        if owner is not None:
            assert (checkout / ".venv").stat().st_uid == owner.pw_uid
        hw2 = subprocess.run(
            [*as_user, ".venv/bin/grade", "hw2", "--reference", "--format", "json"], cwd=checkout, capture_output=True, text=True, timeout=900
        )
        assert hw2.returncode == 0, f"{hw2.stdout[-3000:]}\n{hw2.stderr[-3000:]}"
        report = json.loads(hw2.stdout)
        assert report["score"] == report["max_score"] > 0, [t for t in report["tests"] if t["status"] != "pass"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

"""The hostile suites again at every tier this machine can produce.

The main run is whatever the host gives (root with namespaces on CI). Here the
sandbox tests run again as a child pytest in three other settings, each reached
for real:

- ``user-namespaces``: a non-root user (created when the suite runs as root, e.g. CI)
  where the kernel allows unprivileged user namespaces;
- ``root-landlock``: root with namespaces refused by a seccomp filter installed the way
  a container's default profile refuses them (tests/tiers/no_namespaces.py);
- ``user-landlock``: the same filter, as the non-root user.

Each child must reach exactly the expected level (GRADER_TEST_EXPECT_LEVEL) and pass.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

SUITES = ["tests/test_hostile.py", "tests/test_sandbox_view.py"]
TEST_USER = "grader-student"
NO_NAMESPACES = [sys.executable, str(REPO / "tests" / "tiers" / "no_namespaces.py")]
AS_USER = [sys.executable, str(REPO / "tests" / "tiers" / "as_user.py"), TEST_USER]


def _ensure_user() -> str | None:
    """Why the non-root tiers cannot run here, or None when the test user is ready."""
    if os.geteuid() != 0:
        return "run the suite as root to exercise the non-root tiers with a user of their own (this run is already non-root)"
    for tool in ("runuser", "useradd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if subprocess.run(["id", TEST_USER], capture_output=True).returncode != 0:
        made = subprocess.run(["useradd", "--create-home", TEST_USER], capture_output=True, text=True)
        if made.returncode != 0:
            return f"could not create the test user: {made.stderr.strip()}"
    return None


def _userns_allowed() -> bool:
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read()) == 0:
                return False
    except OSError:
        pass
    for knob, allowed in (("/proc/sys/kernel/unprivileged_userns_clone", "1"), ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0")):
        try:
            with open(knob) as f:
                if f.read().strip() != allowed:
                    return False
        except OSError:
            pass
    return True


TIERS = {
    "user-namespaces": ("namespaces", True, False),
    "root-landlock": ("landlock", False, True),
    "user-landlock": ("landlock", True, True),
}


@pytest.mark.slow
@pytest.mark.parametrize("tier", sorted(TIERS))
def test_hostile_suites_at_tier(tier, tmp_path):
    level, as_user, no_namespaces = TIERS[tier]
    if as_user:
        why = _ensure_user()
        if why:
            pytest.skip(why)
        if level == "namespaces" and not _userns_allowed():
            pytest.skip("this kernel does not allow unprivileged user namespaces")
    elif os.geteuid() != 0:
        pytest.skip("the root tiers need the suite to run as root")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *SUITES]
    if no_namespaces:
        command = NO_NAMESPACES + command
    if as_user:
        command = AS_USER + command
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["GRADER_TEST_EXPECT_LEVEL"] = level
    if as_user:
        env["HOME"] = os.path.expanduser(f"~{TEST_USER}")
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{tier}: the sandbox suites failed\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 40, proc.stdout[-2000:]  # the suites ran, not skipped away

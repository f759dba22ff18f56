"""Python 3.10 to 3.13, and the workflow that runs the suite on each of them.

The suite itself runs on one Python (CI here: 3.11, the one the local CPU build of torch is
for). On the oldest supported Python it is checked statically: in an environment with every
dependency but torch (a CUDA build of several GB from PyPI for any other Python here), every
file compiles, every module of ``grader`` that does not need torch imports, the manifests
load (``tomli`` in place of ``tomllib``), and ``grade --help`` and ``grade list`` work. The
GitHub Actions workflow runs the whole suite on every supported Python.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader._toml import tomllib
from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
SUPPORTED = sorted(
    (c.rsplit(" :: ", 1)[1] for c in PYPROJECT["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)),
    key=lambda v: tuple(map(int, v.split("."))),
)
OLDEST = SUPPORTED[0]
WORKFLOW = REPO / ".github" / "workflows" / "tests.yml"
CHECK = REPO / "tests" / "py_compat.py"
# the first major of each action that runs on Node 24 (older ones run on the deprecated Node 20)
NODE24_SINCE = {"actions/checkout": 5, "actions/setup-python": 6}


def test_requires_python_and_tomli_match_the_supported_versions():
    assert SUPPORTED == ["3.10", "3.11", "3.12", "3.13"]
    assert PYPROJECT["requires-python"] == f">={OLDEST}"
    # tomllib is standard from 3.11: below that, tomli (the same parser) is a dependency
    assert 'tomli>=1.1; python_version < "3.11"' in PYPROJECT["dependencies"]


def test_tomllib_is_imported_only_through_the_shim():
    direct = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "grader").rglob("*.py"))
        if path.name != "_toml.py" and re.search(r"^\s*(import tomllib|from tomllib import)", path.read_text(encoding="utf-8"), re.M)
    ]
    assert direct == [], f"import TOML through grader._toml (tomllib is missing on Python 3.10): {direct}"


def _jobs(matrix: dict) -> list[tuple[str, str]]:
    """The (os, python) pairs a GitHub Actions matrix expands to (product, then include)."""
    jobs = [(os_, py) for os_ in matrix.get("os", []) for py in matrix.get("python", [])]
    return jobs + [(entry["os"], entry["python"]) for entry in matrix.get("include", [])]


def test_workflow_runs_the_suite_on_every_supported_python_and_os():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = workflow["jobs"].values()
    jobs = _jobs(job["strategy"]["matrix"])
    assert job["runs-on"] == "${{ matrix.os }}"
    assert {py for _, py in jobs} == set(SUPPORTED)
    for os_ in ("ubuntu-latest", "macos-latest", "windows-latest"):
        assert {OLDEST, SUPPORTED[-1]} <= {py for o, py in jobs if o == os_}, f"{os_} misses the oldest or newest Python"
    steps = job["steps"]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "${{ matrix.python }}"
    runs = [s.get("run", "") for s in steps]
    assert "python -m pytest -q -n 2 tests" in runs
    assert any(r.startswith("python -m pip install") and '-e ".[test,report]"' in r for r in runs)


def test_workflow_takes_torch_from_the_cpu_index_except_on_macos():
    (job,) = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"].values()
    (step,) = [s for s in job["steps"] if "download.pytorch.org/whl/cpu" in s.get("run", "")]
    assert step["if"] == "runner.os != 'macOS'"  # macOS: PyPI's build is the CPU one
    assert "GITHUB_ENV" in step["run"]  # for every later pip, the install test's included


def test_workflow_actions_are_current_majors():
    (job,) = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"].values()
    used = [s["uses"] for s in job["steps"] if "uses" in s]
    assert {u.split("@")[0] for u in used} == set(NODE24_SINCE)
    for action in used:
        name, ref = action.split("@")
        assert re.fullmatch(r"v\d+", ref), f"{action}: pin a major tag"
        assert int(ref[1:]) >= NODE24_SINCE[name], f"{action} runs on Node 20, which GitHub Actions has deprecated"


def _interpreter(version: str) -> str | None:
    """A working ``pythonX.Y``: pyenv's, else one on PATH (a pyenv shim on PATH may not run)."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    candidates += [p for p in [shutil.which(f"python{version}")] if p]
    for path in candidates:
        probe = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return path
    return None


@pytest.fixture(scope="module")
def oldest_python(tmp_path_factory) -> str:
    """A venv of the oldest supported Python with every dependency of the project but torch."""
    if sys.version_info[:2] == tuple(map(int, OLDEST.split("."))):
        pytest.skip(f"this run is itself on Python {OLDEST}: the whole suite is the check")
    found = _interpreter(OLDEST)
    if found is None:
        pytest.skip(f"no Python {OLDEST} on this machine (pyenv or PATH); the GitHub Actions workflow runs the suite on it")
    venv = tmp_path_factory.mktemp(f"py{OLDEST}") / "venv"
    subprocess.run([found, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    deps = [d for d in PYPROJECT["dependencies"] if re.match(r"[A-Za-z0-9_.-]+", d).group() != "torch"]
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *deps], capture_output=True, text=True, timeout=900
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return python


def _check(python: str, root: Path) -> dict:
    proc = subprocess.run([python, str(CHECK), str(root)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_the_project_runs_on_the_oldest_python(oldest_python):
    found = _check(oldest_python, REPO)
    assert found["syntax"] == {} and found["failed"] == {} and found["manifests"] == {}, found
    assert {"grader.cli", "grader.manifest", "grader.grading"} <= set(found["imported"])
    # only the modules that handle tensors wait for torch; the CLI and the engine do not
    assert "grader.sandbox.codec" in found["needs_torch"] and len(found["imported"]) > 3 * len(found["needs_torch"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    helped = subprocess.run([oldest_python, "-m", "grader.cli", "--help"], cwd=REPO, env=env, capture_output=True, text=True)
    assert helped.returncode == 0 and "Commands:" in helped.stdout, helped.stderr[-2000:]
    listed = subprocess.run([oldest_python, "-m", "grader.cli", "list"], cwd=REPO, env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and "hw2" in listed.stdout, listed.stderr[-2000:]


@pytest.mark.slow
def test_the_check_catches_what_the_oldest_python_lacks(oldest_python, tmp_path):
    package = tmp_path / "grader"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "uses_tomllib.py").write_text("import tomllib\n")  # standard only from 3.11
    (package / "groups.py").write_text("try:\n    pass\nexcept* ValueError:\n    pass\n")  # 3.11 syntax
    (package / "tensors.py").write_text("import torch\n")
    (package / "fine.py").write_text("import json\n")
    found = _check(oldest_python, tmp_path)
    assert set(found["syntax"]) == {os.path.join("grader", "groups.py")}
    assert set(found["failed"]) == {"grader.uses_tomllib"} and "tomllib" in found["failed"]["grader.uses_tomllib"]
    assert found["needs_torch"] == ["grader.tensors"]
    assert sorted(found["imported"]) == ["grader", "grader.fine"]

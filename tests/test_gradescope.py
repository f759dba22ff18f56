"""Gradescope: results.json as its spec reads, and an autograder zip whose scripts work."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile

import pytest

from grader import manifest, release
from grader.gradescope_export import export
from grader.grading import grade
from grader.render import gradescope
from tests.conftest import REPO

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def hw2():
    return manifest.find("hw2", REPO)


def test_results_follow_the_spec(hw2, zygote):
    report = grade(hw2, hw2.reference_dir, zygote=zygote)
    data = gradescope.as_dict(report)
    assert data["score"] == 12 and data["tests"]
    for t in data["tests"]:
        assert {"name", "score", "max_score", "visibility", "output"} <= set(t) and t["visibility"] in VISIBILITY
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert hidden and all("(hidden)" not in t["name"] for t in hidden)
    assert abs(sum(t["max_score"] for t in data["tests"]) - 12) < 1e-9


def _run_autograder(tmp_path, hw2, submission_files: dict, grade_cmd: str, *, forged: str | None = None) -> dict:
    """Unpacks the zip and runs its run_autograder with /autograder/... moved under tmp_path."""
    zip_path = export(hw2, tmp_path / "dist")
    base = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(base / "source")
        mode = z.getinfo("run_autograder").external_attr >> 16
    assert mode & stat.S_IXUSR, "run_autograder must be executable"
    (base / "submission").mkdir()
    for name, text in submission_files.items():
        (base / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "submission" / name).write_text(text)
    if forged is not None:  # left by an earlier run, or by student code
        (base / "results").mkdir()
        (base / "results" / "results.json").write_text(forged)
    script = (base / "source" / "run_autograder").read_text()
    script = script.replace("/autograder/venv/bin/grade", grade_cmd).replace("/autograder", str(base))
    subprocess.run(["bash", "-c", script], check=True, env=dict(os.environ), timeout=300)
    return json.loads((base / "results" / "results.json").read_text())


FORGED = json.dumps({"score": 12, "output": "full marks", "tests": []})


def test_the_zips_run_autograder_grades_an_upload_from_the_bundle(tmp_path, hw2):
    ref = (REPO / "reference" / "hw2" / "layers.py").read_text()
    raised = (REPO / "assignments" / "hw2" / "assignment.toml").read_text().replace("points = 1", "points = 100", 1)
    results = _run_autograder(tmp_path, hw2, {"layers.py": ref, "assignment.toml": raised}, f"{sys.executable} -m grader.cli", forged=FORGED)
    assert results["score"] == 12 and sum(t["max_score"] for t in results["tests"]) == pytest.approx(12)
    assert "modified (ignored for scoring; the trusted copies were used): assignment.toml" in results["output"]
    assert (tmp_path / "autograder" / "source" / "assignments" / "hw2" / "assignment.toml").is_file()
    assert (tmp_path / "autograder" / "source" / "reference" / "hw2" / "tests").is_dir()


def test_a_repository_upload_is_graded_from_its_assignment_folder(tmp_path, hw2):
    ref = (REPO / "reference" / "hw2" / "layers.py").read_text()
    public = (REPO / "assignments" / "hw2" / "tests" / "test_layers.py").read_text() + "\n# edited\n"
    toml = (REPO / "assignments" / "hw2" / "assignment.toml").read_text()
    upload = {"assignments/hw2/layers.py": ref, "assignments/hw2/tests/test_layers.py": public, "assignments/hw2/assignment.toml": toml}
    results = _run_autograder(tmp_path, hw2, upload, f"{sys.executable} -m grader.cli")
    assert results["score"] == 12
    assert results["output"].endswith("modified (ignored for scoring; the trusted copies were used): tests/test_layers.py")


def test_a_crashing_grader_still_leaves_results(tmp_path, hw2):
    results = _run_autograder(tmp_path, hw2, {"layers.py": "x = 1\n"}, "false")
    assert results["score"] == 0 and "did not finish" in results["output"]


def _fake_grade(tmp_path, body: str) -> str:
    """A `grade` that does ``body`` when grading, and is the real one for --fallback."""
    fake = tmp_path / "fake-grade"
    fake.write_text(f"""#!/bin/bash
case "$*" in
  *--fallback*) exec {sys.executable} -m grader.cli "$@" ;;
  *) {body} ;;
esac
""")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return str(fake)


def test_a_forged_results_file_is_replaced_when_the_grader_is_killed(tmp_path, hw2):
    # what student code running as the grader's user could do: write full marks, kill grade
    results_file = tmp_path / "autograder" / "results" / "results.json"
    body = f"echo '{FORGED}' > {results_file}; kill -9 $$"
    results = _run_autograder(tmp_path, hw2, {"layers.py": "x = 1\n"}, _fake_grade(tmp_path, body), forged=FORGED)
    assert results["score"] == 0 and "The grader did not finish (it stopped with status 137)" in results["output"]
    assert sum(t["max_score"] for t in results["tests"]) == 12  # every task, at 0
    assert not list(results_file.parent.glob("*.fallback.*"))


def test_a_refused_run_says_why_in_the_results(tmp_path, hw2):
    body = f'exec {sys.executable} -m grader.cli "$@" --no-isolation'  # honestly weak: the sandbox is off
    results = _run_autograder(tmp_path, hw2, {"layers.py": "x = 1\n"}, _fake_grade(tmp_path, body), forged=FORGED)
    assert results["score"] == 0
    assert "status 2): Error: hw2: isolation none is below the minimum landlock for --format gradescope" in results["output"]


def _with_packages(assignment, packages):
    """``assignment`` with ``[environment] packages``."""
    from dataclasses import replace

    return replace(assignment, environment_packages=tuple(packages))


FAKE_PYTHON3 = """#!/bin/bash
# the image's python3: its version check answers as $FAKE_OLD says; `-m venv DIR` makes a venv whose python logs pip's arguments
case "$1" in
  --version) echo "Python 3.9.18" ;;
  -c) exit "${FAKE_OLD:-0}" ;;
  -m) mkdir -p "$3/bin"
      printf '#!/bin/bash\\necho "$*" >> %s\\n' "$PIP_LOG" > "$3/bin/python"
      printf '#!/bin/bash\\necho grade, version 0\\n' > "$3/bin/grade"
      chmod +x "$3/bin/python" "$3/bin/grade" ;;
esac
"""


def _run_setup(tmp_path, assignment, **env) -> tuple[subprocess.CompletedProcess, list[str]]:
    """setup.sh from the zip, in bash, with apt-get and the image's python3 replaced by fakes."""
    with zipfile.ZipFile(export(assignment, tmp_path / "dist")) as z:
        script = z.read("setup.sh").decode()
        assert z.getinfo("setup.sh").external_attr >> 16 & stat.S_IXUSR
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {"apt-get": "#!/bin/bash\necho \"apt-get $*\" >> \"$PIP_LOG\"\n", "python3": FAKE_PYTHON3}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    script = script.replace("/autograder", str(tmp_path / "autograder"))
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", PIP_LOG=str(log), **env)
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    return done, log.read_text().splitlines() if log.exists() else []


def test_setup_installs_cpu_torch_the_grader_and_the_extra_packages(tmp_path, hw2):
    done, log = _run_setup(tmp_path, _with_packages(hw2, ("scipy>=1.10",)))
    assert done.returncode == 0, done.stderr
    assert log[0] == "apt-get update" and "python3-venv" in log[1]
    pip = [line for line in log if line.startswith("-m pip install")]
    assert pip[0] == "-m pip install --upgrade pip"  # 22.04's pip is too old for some wheels
    assert pip[1] == "-m pip install torch>=2.1,<3 --index-url https://download.pytorch.org/whl/cpu"
    assert pip[2] == f"-m pip install {tmp_path}/autograder/source/grader-package scipy>=1.10"


def test_setup_refuses_a_python_older_than_3_10_in_one_line(tmp_path, hw2):
    done, log = _run_setup(tmp_path, hw2, FAKE_OLD="1")
    assert done.returncode == 1
    assert done.stderr.strip() == "setup.sh: the grader needs Python 3.10 or newer; this image has Python 3.9.18"
    assert not [line for line in log if line.startswith("-m pip")]


def test_a_summary_of_hidden_checks_is_visible_and_names_none(hw2, zygote, tmp_path):
    from grader.render import feedback

    (tmp_path / "layers.py").write_text("x = 1\n")
    report = feedback.student_view(grade(hw2, tmp_path / "layers.py", zygote=zygote), hw2)
    data = gradescope.as_dict(report)
    hidden = [t for t in data["tests"] if "hidden checks" in t["name"]]
    assert hidden and all(t["visibility"] == "visible" for t in data["tests"])
    assert not set(re.split(r"[^A-Za-z0-9_]+", json.dumps(data))) & release._hidden_check_names(hw2)
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(12)

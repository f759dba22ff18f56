#!/usr/bin/env python3
"""Classroom 50 entry point, copied as it is into every exported bundle.

Classroom 50's runner runs ``python autograder.py`` in the student's checkout, with
the bundle's folder in ``CLASSROOM50_BUNDLE_DIR`` and the submission's identity in the
environment (``CLASSROOM``, ``ASSIGNMENT``, ``OWNER``, ``ASSIGNMENT_TYPE``,
``SUBMISSION_TAG``, ``COMMIT_URL``, ``RELEASE_URL``, ``REVIEW_URL``). This script:

1. installs the CPU build of PyTorch and the grader shipped in the bundle (the very
   version that exported it) into a virtual environment of its own;
2. grades the checkout's ``assignments/<name>`` with the bundle (``grade --hidden``),
   through ``sudo`` where that needs no password (GitHub-hosted runners), so the
   sandbox reaches its strongest tier, under a time limit;
3. always leaves ``result.json`` and ``release-body.md`` in the checkout, written by
   this process: grade's own when it finished (exit 0 or 1) and its result is valid,
   otherwise every task at 0 points with the reason (a crash, the time limit, a
   refusal, an install that failed). It exits 0 either way: a non-zero exit would
   make the runner record an empty error result instead of the reason.

It needs only the standard library, so the fallback works even when nothing installs.
Settings come from ``grader.json`` beside it (written by ``grade export classroom50``).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(os.environ.get("CLASSROOM50_BUNDLE_DIR") or Path(__file__).parent).resolve()
RESULT = "result.json"
BODY = "release-body.md"
TAIL = 400  # characters of grade's last words kept in the reason


def load_config() -> dict:
    return json.loads((HERE / "grader.json").read_text(encoding="utf-8"))


def identity(config: dict) -> dict:
    env = os.environ
    commit = env.get("COMMIT_URL") or "local"
    tag = env.get("SUBMISSION_TAG") or ""
    kind = (env.get("ASSIGNMENT_TYPE") or "").strip().lower()
    return {
        "classroom": env.get("CLASSROOM") or "local",
        "assignment": env.get("ASSIGNMENT") or config["name"],
        "assignment_type": kind if kind in ("individual", "group", "team") else "individual",
        "owner": env.get("OWNER") or env.get("USERNAME") or "local",
        "submission": tag if tag.startswith("submit/") else "submit/local",
        "commit": commit,
        "release": env.get("RELEASE_URL") or commit,
        "review": env.get("REVIEW_URL") or commit,
    }


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def problem(result) -> str:
    """Why ``result`` is not one to publish ('' when it is): the parts this script relies
    on. The runner checks the whole contract again."""
    if not isinstance(result, dict) or result.get("schema") != "classroom50/result/v1":
        return "it is not a classroom50/result/v1 document"
    tests = result.get("tests")
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        return "its tests are not a list of objects"

    def whole(x) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    for t in tests:
        if not (isinstance(t.get("test-name"), str) and t["test-name"] and isinstance(t.get("passed"), bool)):
            return "a test lacks its name or its passed flag"
        if not (whole(t.get("score")) and whole(t.get("max-score")) and t["score"] <= t["max-score"]):
            return "a test's score is not a whole number within its max-score"
    if result.get("score") != sum(t["score"] for t in tests) or result.get("max-score") != sum(t["max-score"] for t in tests):
        return "its totals are not the sums of its tests"
    return ""


def write(result: dict, body: str) -> None:
    """Both files, each replaced in one step, owned by this user (the runner rewrites
    result.json after us), whatever stood there before."""
    for name, text in ((RESULT, json.dumps(result, indent=2) + "\n"), (BODY, body)):
        fd, tmp = tempfile.mkstemp(dir=Path.cwd(), prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o644)
            f.write(text)
        os.replace(tmp, name)


def fallback(config: dict, reason: str) -> None:
    reason = " ".join(reason.split())[:1000]
    tests = [dict(t, message=reason) for t in config["fallback_tests"]]
    stamp = now()
    result = {
        "schema": "classroom50/result/v1", **identity(config), "datetime": stamp, "graded_at": stamp,
        "score": 0, "max-score": sum(t["max-score"] for t in tests), "tests": tests,
    }  # fmt: skip
    write(result, f"### {config['title']}: not graded\n\n{reason}\n")
    print(f"autograder: not graded: {reason}", file=sys.stderr)


def install(config: dict, venv: Path) -> str:
    """'' when the grader is ready, else what went wrong. Run from the bundle, never the
    checkout: ``python -m`` puts its folder first on the path, and a student's ``venv.py``
    or ``pip.py`` there would run here, outside the sandbox, and could fake the grader."""
    if not config["install"]:
        return ""
    if not venv.is_dir():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, cwd=HERE)
    for command in config["install"]:
        argv = [part.format(venv=venv, bundle=HERE) for part in command]
        if subprocess.run(argv, cwd=HERE).returncode != 0:
            return f"installing the grader failed ({' '.join(argv[:4])} ...); your instructor will regrade"
    return ""


def grade_command(config: dict, venv: Path, out: Path, *, sudo: bool) -> list[str]:
    grade = [part.format(venv=venv, bundle=HERE) for part in config["grade"]]
    argv = [*grade, config["name"], "--hidden", str(HERE), "--root", str(Path.cwd()), "--format", "classroom50", "-o", str(out)]
    if shutil.which("timeout"):  # SIGTERM first, so grade ends its workers and cleans up
        argv = ["timeout", "-k", "30", str(config["time_limit_seconds"]), *argv]
    keep = ",".join(("CLASSROOM", "ASSIGNMENT", "ASSIGNMENT_TYPE", "OWNER", "USERNAME", "SUBMISSION_TAG", "COMMIT_URL", "RELEASE_URL", "REVIEW_URL"))
    return ["sudo", "-n", f"--preserve-env={keep}", *argv] if sudo else argv


def passwordless_sudo() -> bool:
    if os.name != "posix" or os.geteuid() == 0 or not shutil.which("sudo"):
        return False
    return subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0


def main() -> int:
    config = load_config()
    for name in (RESULT, BODY):  # nothing stale or planted stands if this script dies
        Path(name).unlink(missing_ok=True)
    try:
        venv = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "torch-grader-venv"
        trouble = install(config, venv)
        if trouble:
            fallback(config, trouble)
            return 0
        with tempfile.TemporaryDirectory(prefix="torch-grader-") as scratch:
            os.chmod(scratch, 0o755)  # grade may run as root; this process reads what it writes
            out = Path(scratch) / RESULT
            argv = grade_command(config, venv, out, sudo=passwordless_sudo())
            try:
                # from the scratch folder, for the same reason (a grade command of the form `python -m ...`)
                run = subprocess.run(argv, stderr=subprocess.PIPE, text=True, timeout=config["time_limit_seconds"] + 60, cwd=scratch)
                status, said = run.returncode, (run.stderr or "").strip()
            except subprocess.TimeoutExpired:
                status, said = 124, ""
            sys.stderr.write(said + ("\n" if said else ""))
            last = said.splitlines()[-1][-TAIL:] if said else ""
            if status not in (0, 1) or not out.is_file():
                if status == 124:
                    why = "it ran out of time"
                else:
                    why = f"it was killed by signal {-status}" if status < 0 else f"it stopped with status {status}"
                fallback(config, f"The grader did not finish ({why}): {last} Your instructor will regrade this submission.")
                return 0
            result = json.loads(out.read_text(encoding="utf-8"))
            trouble = problem(result)
            if trouble:
                fallback(config, f"The grader wrote a result Classroom 50 cannot take ({trouble}); your instructor will regrade.")
                return 0
            body_path = out.parent / BODY
            body = body_path.read_text(encoding="utf-8") if body_path.is_file() else ""
            result.update(identity(config))  # from this process's environment, whatever sudo kept
            write(result, body)
    except Exception as e:  # noqa: BLE001 - whatever happened, a result with the reason
        fallback(config, f"The autograder failed ({type(e).__name__}: {e}); your instructor will regrade this submission.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

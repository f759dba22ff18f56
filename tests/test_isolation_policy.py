"""No silent downgrade: every report states its isolation; authoritative outputs refuse
to grade below the manifest's min_isolation unless the risk is accepted, and then say so.

A weak level is reached honestly with --no-isolation (the sandbox reports `none`).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from grader.cli import main
from tests.conftest import REPO


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def no_isolation_reason(zygote) -> str:
    from grader.sandbox.client import probe_level

    level, reason = probe_level(zygote, isolate=False)
    assert level == "none"
    return reason


@pytest.mark.parametrize("fmt", ["github", "junit", "gradescope"])
def test_an_authoritative_format_refuses_before_any_student_code_runs(fmt, course, tmp_path, no_isolation_reason):
    marker = tmp_path / "student-code-ran"
    sub = tmp_path / "regression.py"
    sub.write_text(f"open({str(marker)!r}, 'w').close()\n" + (REPO / "reference" / "hw1" / "regression.py").read_text())
    out = tmp_path / "result"
    out.write_text("a stale result")
    result = run("hw1", "--root", str(course), "--submission", str(sub), "--format", fmt, "--no-isolation", "-o", str(out))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: hw1: isolation none is below the minimum landlock for --format {fmt} ([limits] min_isolation): "
        f"{no_isolation_reason}; drop --no-isolation, or pass --allow-weak-isolation to accept the risk\n"
    )
    assert not marker.exists() and not out.exists()  # refused first; the stale result is gone


def test_weak_isolation_accepted_is_written_into_every_authoritative_result(course, tmp_path):
    weak = ("--no-isolation", "--allow-weak-isolation")
    note = "weak isolation accepted (--allow-weak-isolation): graded at none"

    result = run("hw1", "--root", str(course), "--reference", "--format", "github", *weak)
    assert result.exit_code == 0, result.output
    summary = dict(line.split("=", 1) for line in result.output.strip().splitlines())["grader_summary"]
    assert "isolation: none — no containment" in summary and note in summary

    result = run("hw1", "--root", str(course), "--reference", "--format", "gradescope", *weak)
    assert result.exit_code == 0, result.output
    assert note in json.loads(result.output)["output"]

    out = tmp_path / "junit.xml"
    result = run("hw1", "--root", str(course), "--reference", "--format", "junit", "-o", str(out), *weak)
    assert result.exit_code == 0, result.output
    for suite in ET.parse(out).getroot():
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["weak_isolation_accepted"] == "true" and props["isolation"] == "none" and props["isolation_reason"]


def test_a_self_check_runs_at_any_level_and_says_which(course, no_isolation_reason, zygote):
    result = run("hw1", "--root", str(course), "--public-only", "--no-isolation")
    assert result.exit_code == 1
    assert (  # an [environment] note may follow it
        "⚠ isolation: none — no containment: student code could read and change anything your user can — "
        f"a self-check, not a grade (why not stronger: {no_isolation_reason}) · backend: {zygote.name}"
    ) in _header(result.output)

    data = json.loads(run("hw1", "--root", str(course), "--public-only", "--no-isolation", "--format", "json").output)
    assert (data["isolation"], data["weak_isolation_accepted"]) == ("none", False)
    assert data["isolation_reason"] == no_isolation_reason


def test_the_top_level_is_stated_plainly(course, zygote):
    from grader.sandbox.client import probe_level

    level, reason = probe_level(zygote)
    if level != "namespaces":
        pytest.skip(f"this host reaches {level}: {reason}")
    result = run("hw1", "--root", str(course), "--public-only")
    assert f"/assignments/hw1) isolation: namespaces · backend: {zygote.name}" in _header(result.output)


def _header(output: str) -> str:
    """What the terminal report prints before the first task, as one line (the console wraps)."""
    return " ".join(output.split("\n\n")[0].split())


def test_the_manifest_minimum_decides(course, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(course, root)
    manifest = root / "assignments" / "hw1" / "assignment.toml"
    manifest.write_text(manifest.read_text().replace("[limits]\n", '[limits]\nmin_isolation = "none"\n'))
    result = run("hw1", "--root", str(root), "--reference", "--format", "gradescope", "--no-isolation")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["score"] == 6 and "isolation: none" in data["output"] and "accepted" not in data["output"]


def _class(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text((REPO / "reference" / "hw4" / "normalization.py").read_text())
    return folder


@pytest.fixture
def batch_without_isolation(monkeypatch):
    """`grade batch` with the sandbox really off (it has no --no-isolation of its own)."""
    from grader import grading
    from grader.sandbox import client

    probe, grade = client.probe_level, grading.grade
    monkeypatch.setattr(client, "probe_level", lambda zygote, isolate=True: probe(zygote, isolate=False))
    monkeypatch.setattr(grading, "grade", lambda *a, **k: grade(*a, **{**k, "isolate": False}))
    return probe


def test_batch_refuses_below_the_minimum(tmp_path, batch_without_isolation, no_isolation_reason):
    folder = _class(tmp_path)
    result = run("batch", "hw4", str(folder), "--root", str(REPO), "-j", "1", "--out", str(tmp_path / "grades"))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: hw4: isolation none is below the minimum landlock for grade batch ([limits] min_isolation): "
        f"{no_isolation_reason}; run as root (sudo), allow unprivileged user namespaces, or pass --allow-weak-isolation to accept the risk\n"
    )
    assert not (tmp_path / "grades" / "results" / "alice.json").exists()


def test_batch_records_accepted_weak_isolation_per_student(tmp_path, batch_without_isolation):
    import csv

    folder = _class(tmp_path)
    out = tmp_path / "grades"
    result = run("batch", "hw4", str(folder), "--root", str(REPO), "-j", "1", "--out", str(out), "--allow-weak-isolation")
    assert result.exit_code == 0, result.output
    assert "weak isolation accepted (--allow-weak-isolation): graded at none" in result.output
    alice = json.loads((out / "results" / "alice.json").read_text())
    assert alice["score"] == 8 and alice["isolation"] == "none" and alice["weak_isolation_accepted"] is True
    with open(out / "gradebook.csv", newline="") as f:
        (row,) = csv.DictReader(f)
    assert (row["isolation"], row["weak_isolation_accepted"]) == ("none", "yes")

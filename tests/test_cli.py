"""The CLI end to end: exact error texts, exit codes, every output format."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import click
import pytest
from click.testing import CliRunner

from grader.cli import main
from tests.conftest import REPO


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_command_has_help():
    for name, command in main.commands.items():
        assert command.help, f"`grade {name}` has no help text"
        assert run(name, "--help").exit_code == 0


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    """(path, command) for the group itself and every command below it, sub-groups too."""
    yield path, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _examples(help_text: str) -> list[str]:
    """The indented `grade ...` lines under an `Examples:` line of a help screen."""
    lines = help_text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Examples:"]
    if not starts:
        return []
    found = []
    for line in lines[starts[0] + 1 :]:
        if not line.strip().startswith("grade"):
            break
        found.append(line.strip())
    return found


@pytest.mark.parametrize("path", [" ".join(p) or "(grade)" for p, _ in _commands(main)])
def test_every_command_shows_examples_in_its_help(path):
    words = [] if path == "(grade)" else path.split()
    result = run(*words, "--help")
    assert result.exit_code == 0, result.output
    examples = _examples(result.output)
    assert examples, f"`grade {path} --help` has no Examples: section (end its docstring with \\b, Examples:, indented grade lines)"
    if words:  # an example of this command, not of another
        assert any(e.startswith(f"grade {path}") or words == ["run"] for e in examples), examples


def test_the_examples_walk_reaches_sub_groups():
    group = click.Group("top", commands=[click.Group("sub", commands=[click.Command("leaf", help="x")])])
    assert [p for p, _ in _commands(group)] == [(), ("sub",), ("sub", "leaf")]
    assert _examples("Usage: x\n\n  Examples:\n    grade a\n    grade b --c\n\nOptions:\n") == ["grade a", "grade b --c"]
    assert _examples("Usage: x\n\n  grade a\n") == []


def test_list_shows_hw1():
    result = run("list", "--root", str(REPO))
    assert result.exit_code == 0
    assert "hw1" in result.output and "linear regression" in result.output


def test_unknown_assignment_is_one_line_exit_2():
    result = run("hw9", "--root", str(REPO))
    assert result.exit_code == 2
    names = ", ".join(sorted(p.name for p in (REPO / "assignments").iterdir() if (p / "assignment.toml").is_file()))
    assert names.startswith("hw1, hw2")
    assert result.output.strip() == f"Error: no assignment named 'hw9' in {REPO / 'assignments'}; available: {names}".replace(
        str(REPO / "assignments"), _rel(REPO / "assignments")
    )


def _rel(p):
    import os

    return os.path.relpath(p)


def test_missing_submission_is_one_line_exit_2(tmp_path):
    result = run("hw1", "--root", str(REPO), "--submission", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: submission {tmp_path / 'nope.py'} does not exist"


def test_bad_manifest_key_is_one_line_exit_2(course, tmp_path):
    import shutil

    root = tmp_path / "c"
    shutil.copytree(course, root)
    manifest = root / "assignments" / "hw1" / "assignment.toml"
    manifest.write_text(manifest.read_text().replace("points = 2", 'points = "two"', 1))
    result = run("hw1", "--root", str(root))
    assert result.exit_code == 2
    assert result.output.strip().endswith('tasks[2].points must be a number, got "two"')
    assert len(result.output.strip().splitlines()) == 1


def test_reference_json_full_marks(course):
    result = run("hw1", "--root", str(course), "--reference", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["score"] == data["max_score"] == 6
    assert data["isolation"] in ("namespaces", "landlock", "none")
    assert data["hidden_checks"] == "run"
    assert any(t["visibility"] == "hidden" for t in data["tests"])
    for t in data["tests"]:
        assert set(t) >= {"name", "task", "status", "score", "max_score", "message", "visibility", "duration"}


def test_stubs_score_zero_with_one_clear_line_per_check(course):
    result = run("hw1", "--root", str(course), "--public-only")
    assert result.exit_code == 1
    assert "Score: 0/6" in result.output
    assert "`predict` is not implemented yet" in result.output
    assert "Traceback" not in result.output


def test_github_payload_matches_the_reporter(course):
    """Replays the reporter's arithmetic: its console (passed/total*max) and its points agree."""
    result = run("hw1", "--root", str(course), "--reference", "--format", "github")
    assert result.exit_code == 0
    outputs = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    runners = outputs.pop("runners").split(",")
    assert outputs.pop("grader_summary").startswith("HW1 part A: linear regression from scratch: 6/6 · isolation: ")
    assert set(runners) == set(outputs)
    total = max_total = 0
    for runner in runners:
        payload = json.loads(base64.b64decode(outputs[runner]))
        assert payload["status"] in ("pass", "fail", "error") and payload["tests"]
        console = sum(t["status"] == "pass" for t in payload["tests"]) / len(payload["tests"]) * payload["max_score"]
        points = sum(t["score"] for t in payload["tests"])
        assert console == pytest.approx(points)
        total += points
        max_total += payload["max_score"]
    assert total == pytest.approx(6) and max_total == 6


def test_github_payload_partial_credit_agrees(tmp_path, course):
    wrong = (REPO / "reference" / "hw1" / "regression.py").read_text().replace("return (pred - y).abs().mean()", "return (pred - y).abs().sum()")
    sub = tmp_path / "regression.py"
    sub.write_text(wrong)
    result = run("hw1", "--root", str(course), "--submission", str(sub), "--format", "github")
    assert result.exit_code == 1
    outputs = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    losses = json.loads(base64.b64decode(outputs["losses"]))
    console = sum(t["status"] == "pass" for t in losses["tests"]) / len(losses["tests"]) * losses["max_score"]
    points = sum(t["score"] for t in losses["tests"])
    assert 0 < points < 1
    assert points == pytest.approx(console)


def test_junit_is_valid_xml(course, tmp_path):
    out = tmp_path / "r.xml"
    result = run("hw1", "--root", str(course), "--public-only", "--format", "junit", "--output", str(out))
    assert result.exit_code == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert sum(int(s.get("failures")) for s in root) == 5


def test_output_replaces_what_stands_at_its_path(course, tmp_path):
    """-o renames a finished file into place: a link planted there is replaced, not written through."""
    target = tmp_path / "elsewhere.txt"
    target.write_text("untouched")
    out = tmp_path / "results.json"
    out.symlink_to(target)
    result = run("hw1", "--root", str(course), "--public-only", "--format", "json", "-o", str(out))
    assert result.exit_code == 1
    assert not out.is_symlink() and json.loads(out.read_text())["max_score"] == 6
    assert target.read_text() == "untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "results.json"]  # no temporary left


def test_a_result_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    import os

    from grader import atomic

    out = tmp_path / "results.json"
    out.write_text("old")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic.write_text(out, "new")
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_terminal_report_can_go_to_a_file(course, tmp_path):
    out = tmp_path / "report.txt"
    result = run("hw1", "--root", str(course), "--public-only", "-o", str(out))
    assert result.exit_code == 1 and result.output == ""
    assert "isolation: " in out.read_text() and "Score: 0/6" in out.read_text()


def test_output_into_a_missing_folder_creates_it(course, tmp_path):
    out = tmp_path / "results" / "hw1" / "r.json"
    result = run("hw1", "--root", str(course), "--public-only", "--format", "json", "-o", str(out))
    assert result.exit_code == 1
    assert json.loads(out.read_text())["max_score"] == 6


def test_output_that_cannot_be_written_is_refused_before_grading(course, tmp_path, monkeypatch):
    from grader import grading

    def no_grading(*args, **kwargs):
        raise AssertionError("graded, though the result could not be written")

    monkeypatch.setattr(grading, "grade", no_grading)
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "sub" / "r.json"
    result = run("hw1", "--root", str(course), "--format", "json", "-o", str(out))
    assert result.exit_code == 2
    assert result.output == f"Error: cannot write -o {out}: Not a directory ({out.parent}); choose a folder you can write to\n"

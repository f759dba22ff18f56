"""``--format junit``: JUnit XML, one test suite per task.

The shape CI readers take (Jenkins' JUnit plugin, GitLab's test reports, GitHub test
reporters): ``testsuites`` > ``testsuite`` (name, tests, failures, errors, skipped,
time) > ``testcase`` (classname, name, time), with a ``failure``/``error`` carrying a
``message`` attribute, ``skipped``, and the student's output in ``system-out``.

Whatever a student prints goes into the file, and XML 1.0 forbids most control
characters (a NUL, a bell, the ESC of a terminal colour), even escaped: colour codes are
dropped and any other forbidden character is written as ``\\xNN``, so every parser reads
the file and nothing printed is silently lost.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..results import Report

# terminal escape sequences: CSI (colours, cursor moves) and OSC (titles, links)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
# what XML 1.0 does not allow anywhere (its Char production)
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` as XML 1.0 can hold it: colour codes dropped, other forbidden characters as ``\\xNN``."""
    return _FORBIDDEN.sub(_escaped, _ANSI.sub("", text))


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _element(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    attrs = {k: clean(v) for k, v in attrs.items()}
    node = ET.Element(tag, attrs) if parent is None else ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = clean(text)
    return node


def _counts(checks) -> dict[str, str]:
    return {
        "tests": str(len(checks)),
        "failures": str(sum(c.status == "fail" for c in checks)),
        "errors": str(sum(c.status == "error" for c in checks)),
        "skipped": str(sum(c.status == "skip" for c in checks)),
        "time": f"{sum(c.duration for c in checks):.3f}",
    }


def render(report: Report) -> str:
    root = _element(None, "testsuites", name=report.assignment, **_counts(report.checks))
    # on every suite, since JUnit readers keep properties per suite
    trust = [
        ("isolation", report.isolation),
        ("isolation_reason", report.isolation_reason),
        ("backend", report.backend),
        ("weak_isolation_accepted", "true" if report.weak_isolation_accepted else "false"),
        ("modified", "; ".join(report.modified)),
    ]
    for task in report.tasks:
        checks = task.checks
        suite = _element(root, "testsuite", name=task.id, **_counts(checks))
        props = _element(suite, "properties")
        _element(props, "property", name="score", value=f"{task.score:g}")
        _element(props, "property", name="max_score", value=f"{task.points:g}")
        for name, value in trust:
            _element(props, "property", name=name, value=value)
        for c in checks:
            case = _element(suite, "testcase", classname=f"{report.assignment}.{task.id}", name=c.name, time=f"{c.duration:.3f}")
            if c.status in ("fail", "error"):
                _element(case, "failure" if c.status == "fail" else "error", c.message, message=c.message)
            elif c.status == "skip":
                _element(case, "skipped", message=c.message)
            if c.output:
                _element(case, "system-out", c.output)
    for err in report.errors:
        suite = _element(root, "testsuite", name="collection", tests="1", failures="0", errors="1", skipped="0", time="0.000")
        case = _element(suite, "testcase", classname=report.assignment, name="collection", time="0.000")
        _element(case, "error", err, message=err)
    if report.errors:  # the totals include the collection suites
        root.set("tests", str(len(report.checks) + len(report.errors)))
        root.set("errors", str(int(root.get("errors")) + len(report.errors)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)

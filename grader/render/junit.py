"""``--format junit``: JUnit XML, one test suite per task."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..results import Report


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=report.assignment, tests=str(len(report.checks)))
    # on every suite, since JUnit readers keep properties per suite
    trust = [
        ("isolation", report.isolation),
        ("isolation_reason", report.isolation_reason),
        ("weak_isolation_accepted", "true" if report.weak_isolation_accepted else "false"),
        ("modified", "; ".join(report.modified)),
    ]
    for task in report.tasks:
        checks = task.checks
        suite = ET.SubElement(
            root,
            "testsuite",
            name=task.id,
            tests=str(len(checks)),
            failures=str(sum(c.status == "fail" for c in checks)),
            errors=str(sum(c.status == "error" for c in checks)),
            skipped=str(sum(c.status == "skip" for c in checks)),
            time=f"{sum(c.duration for c in checks):.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="score", value=f"{task.score:g}")
        ET.SubElement(props, "property", name="max_score", value=f"{task.points:g}")
        for name, value in trust:
            ET.SubElement(props, "property", name=name, value=value)
        for c in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{report.assignment}.{task.id}", name=c.name, time=f"{c.duration:.3f}")
            if c.status in ("fail", "error"):
                ET.SubElement(case, "failure" if c.status == "fail" else "error", message=c.message).text = c.message
            elif c.status == "skip":
                ET.SubElement(case, "skipped", message=c.message)
            if c.output:
                ET.SubElement(case, "system-out").text = c.output
    for err in report.errors:
        suite = ET.SubElement(root, "testsuite", name="collection", tests="1", errors="1")
        case = ET.SubElement(suite, "testcase", classname=report.assignment, name="collection")
        ET.SubElement(case, "error", message=err).text = err
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)

"""Run under sitecustomize.py: imports every grader module but the Linux backend's,
grades (argv: the course folder, the assignment, the submission or "reference", and
"public" for the public checks alone) and
prints one JSON line: the backend chosen, the Linux-only modules loaded, the report."""

import importlib
import json
import pkgutil
import sys
from pathlib import Path

import grader
from grader import manifest
from grader.grading import grade
from grader.render import json_report
from grader.sandbox import backend

LINUX_ONLY = {f"grader.sandbox.{m}" for m in ("fork", "zygote", "isolation", "linux", "rootfs", "landlock", "seccomp")}

for info in pkgutil.walk_packages(grader.__path__, "grader."):
    if info.name not in LINUX_ONLY:
        importlib.import_module(info.name)
root, name, submission = sys.argv[1:4]
assignment = manifest.find(name, Path(root))
where = assignment.reference_dir if submission == "reference" else Path(submission)
report = grade(assignment, where, include_hidden=sys.argv[4:] != ["public"])
print(json.dumps({"chosen": backend.choose(), "linux_only": sorted(LINUX_ONLY & set(sys.modules)), "report": json.loads(json_report.render(report))}))

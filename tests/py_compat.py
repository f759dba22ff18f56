"""Whether an interpreter accepts the project without PyTorch: run by another Python than
the suite's (tests/test_python_versions.py), in an environment holding every dependency
but torch.

    pythonX.Y tests/py_compat.py ROOT

Prints one JSON object: ``syntax`` (each ``.py`` file under ROOT that does not compile, with
the line and why), ``imported`` and ``needs_torch`` (the modules of ROOT's ``grader`` package
that import, and those that stop only at ``import torch``), ``failed`` (every other import
failure: a module of the standard library this Python lacks, a name it does not have) and
``manifests`` (each assignment under ROOT/assignments that does not load).
"""

import importlib
import json
import os
import pkgutil
import sys

SKIP_DIRS = {"__pycache__", "build", "dist", "node_modules"}


def _syntax(root: str) -> dict[str, str]:
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                try:
                    with open(path, encoding="utf-8") as f:
                        compile(f.read(), path, "exec")
                except SyntaxError as e:
                    found[os.path.relpath(path, root)] = f"line {e.lineno}: {e.msg}"
    return found


def _is_torch(error: BaseException) -> bool:
    return isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "torch"


def _imports(skip: set[str]) -> tuple[list[str], list[str], dict[str, str]]:
    imported, needs_torch, failed = [], [], {}

    def record(name: str, error: BaseException) -> None:
        if _is_torch(error):
            needs_torch.append(name)
        else:
            failed[name] = f"{type(error).__name__}: {error}"

    try:
        import grader
    except Exception as e:  # noqa: BLE001 -- every failure is the finding
        record("grader", e)
        return imported, needs_torch, failed
    imported.append("grader")
    for name in (m.name for m in pkgutil.walk_packages(grader.__path__, "grader.", onerror=lambda n: None)):
        if name in skip:  # already reported as a syntax error
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as e:  # noqa: BLE001 -- every failure is the finding
            record(name, e)
    return imported, needs_torch, failed


def _manifests(root: str) -> dict[str, str]:
    from pathlib import Path

    from grader import manifest

    failed = {}
    for name in manifest.available(Path(root)):
        try:
            manifest.find(name, Path(root))
        except Exception as e:  # noqa: BLE001
            failed[name] = f"{type(e).__name__}: {e}"
    return failed


def main(root: str) -> None:
    root = os.path.abspath(root)
    sys.path.insert(0, root)
    syntax = _syntax(root)
    broken = {p[:-3].replace(os.sep, ".").removesuffix(".__init__") for p in syntax}
    imported, needs_torch, failed = _imports(broken)
    manifests = _manifests(root) if "grader.manifest" in imported else {}
    print(json.dumps({"syntax": syntax, "imported": imported, "needs_torch": needs_torch, "failed": failed, "manifests": manifests}))


if __name__ == "__main__":
    main(sys.argv[1])

"""A stand-in for ``google.colab``, for notebooks written on Colab.

Course notebooks start with ``from google.colab import drive; drive.mount(...)`` to
reach their data. A graded run has no drive and no browser, and needs neither: its
data is in its working folder. The stand-in is a namespace package ``google.colab``
placed beside the program (or the notebook, for every check) only when it names it (so ``google.protobuf`` and
the like, installed as portions of the same namespace, still import); each call it
skips prints one line saying so, into the program's output.
"""

from __future__ import annotations

import re

_NAMED = re.compile(r"\bgoogle\.colab\b|\bfrom\s+google\s+import\s+[^\n]*\bcolab\b")

NOTE = "[grader] skipped {what}: graded runs are not on Colab; the data files are already in the working folder"

_INIT = '''"""Stand-in for Colab's google.colab while grading: nothing here touches a drive or a browser."""


def _skipped(what):
    print(%r.format(what=what), flush=True)


from . import drive, files, output  # noqa: E402,F401 - as `from google.colab import drive` expects
''' % NOTE

_DRIVE = '''from . import _skipped


def mount(mountpoint="/content/drive", force_remount=False, timeout_ms=120000, readonly=False):
    _skipped(f"drive.mount({mountpoint!r})")


def flush_and_unmount(timeout_ms=24 * 60 * 60 * 1000):
    _skipped("drive.flush_and_unmount()")
'''

_FILES = '''from . import _skipped


def upload(*args, **kwargs):
    _skipped("files.upload()")
    return {}


def download(filename):
    _skipped(f"files.download({filename!r})")
'''

_OUTPUT = '''from . import _skipped


def clear(*args, **kwargs):
    pass


def enable_custom_widget_manager(*args, **kwargs):
    _skipped("output.enable_custom_widget_manager()")
'''


def wanted(source: str) -> bool:
    return bool(_NAMED.search(source))


def present(texts: tuple[tuple[str, str], ...]) -> bool:
    return any(rel == "google/colab/__init__.py" for rel, _ in texts)


def for_source(source: str) -> tuple[tuple[str, str], ...]:
    """The stand-in's files when ``source`` names google.colab, else none."""
    return files() if wanted(source) else ()


def files() -> tuple[tuple[str, str], ...]:
    """(path in the worker's folder, text): the stand-in package (no google/__init__.py:
    ``google`` stays a namespace package)."""
    return (
        ("google/colab/__init__.py", _INIT),
        ("google/colab/drive.py", _DRIVE),
        ("google/colab/files.py", _FILES),
        ("google/colab/output.py", _OUTPUT),
    )

"""Moved to ``grader.platforms.gradescope.export``; this import path keeps working (the same module object)."""
import sys; from importlib import import_module; sys.modules[__name__] = import_module("grader.platforms.gradescope.export")  # noqa: E401,E702

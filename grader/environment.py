"""An assignment's declared grading environment: the packages its code may import.

A course's notebooks import more than torch and numpy (pandas, tqdm, tensorboard,
scikit-learn...). The manifest names what the grading environment provides::

    [environment]
    packages = ["pandas", "tqdm>=4.60"]

Platform exports install these where they build the grader's environment. Every
grading run checks them at its start; a missing or too old one is said in one line,
with the command that installs it, on every report: grading goes on (a program that
does not import it is graded as anywhere else), and a program that fails on it is
told why.
"""

from __future__ import annotations

import shlex
from functools import lru_cache
from importlib import metadata

from .manifest import REQUIREMENT_RE, Assignment


@lru_cache(maxsize=64)
def _unmet(spec: str) -> str:
    """Why ``spec`` is not met here ("" when it is)."""
    name, _extras, version_spec = REQUIREMENT_RE.match(spec).groups()
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        return f"{name} is not installed"
    if version_spec:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion

        try:
            if not SpecifierSet(version_spec.strip()).contains(installed, prereleases=True):
                return f"{name} {installed} is installed, {version_spec.strip()} is needed"
        except (InvalidSpecifier, InvalidVersion):
            return f"{name}'s version {version_spec.strip()!r} cannot be read (installed: {installed})"
    return ""


def missing(packages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(requirement, why it is not met) for each declared package this environment lacks."""
    return [(spec, why) for spec in packages if (why := _unmet(spec))]


def problem(assignment: Assignment) -> str:
    """One line when the declared environment is incomplete here, else ""."""
    unmet = missing(assignment.environment_packages)
    if not unmet:
        return ""
    install = " ".join(shlex.quote(spec) for spec, _ in unmet)
    reasons = "; ".join(why for _, why in unmet)
    return (
        f"{assignment.name}'s grading environment is incomplete here ({reasons}; declared in "
        f"[environment] packages of its assignment.toml): python -m pip install {install}"
    )


def missing_module_hint(assignment: Assignment, message: str) -> str:
    """For a program that failed on ``No module named 'x'``: the line above, when x is one
    of the declared packages this environment lacks ("" otherwise)."""
    if "No module named" not in message:
        return ""
    return problem(assignment)

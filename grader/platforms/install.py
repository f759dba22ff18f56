"""What every platform installs before grading: the CPU build of PyTorch, then the
grader, then the assignment's own extra packages (``[environment] packages``)."""

from __future__ import annotations

from ..manifest import Assignment

TORCH_SPEC = "torch>=2.1,<3"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH = f'"{TORCH_SPEC}" --index-url {TORCH_INDEX}'  # as pip's arguments on a shell line


def extra_packages(assignment: Assignment) -> tuple[str, ...]:
    return tuple(getattr(assignment, "environment_packages", ()))  # a manifest may not have the key yet


def packages(assignment: Assignment) -> str:
    """The extra packages, quoted for a shell line and each led by a space ('' if none)."""
    return "".join(f' "{p}"' for p in extra_packages(assignment))

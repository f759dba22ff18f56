"""The instructor's regrade, written out for an engine: GitHub Actions, Kubernetes, Slurm.

Each template runs the same contract: clone shard I of N from the roster
(``grade gradebook clone --shard I/N``), grade it (``grade batch --shard I/N`` with the
bundle), and merge the N outputs (``grade gradebook merge``). Templates are data, in
``templates/``; ``@NAME@`` marks what is filled in here.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import atomic
from ..errors import GraderError
from ..manifest import Assignment

TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_IMAGE = "ghcr.io/YOUR-ORG/torch-grader:latest"
TIMEOUT_MINUTES = 180

# target -> (template, where it is written, relative to --out)
TARGETS = {
    "regrade-actions": [("actions.yml", ".github/workflows/regrade-{name}.yml")],
    "regrade-kubernetes": [("kubernetes-job.yaml", "regrade-{name}-job.yaml"), ("kubernetes-merge.yaml", "regrade-{name}-merge.yaml")],
    "regrade-slurm": [("slurm-array.sbatch", "regrade-{name}.sbatch"), ("slurm-merge.sbatch", "merge-{name}.sbatch")],
}


def render(template: str, assignment: Assignment, *, shards: int, gpus: int = 0, image: str = DEFAULT_IMAGE) -> str:
    if shards < 1:
        raise GraderError(f"--shards {shards}: give at least 1")
    minutes = TIMEOUT_MINUTES
    values = {
        "ASSIGNMENT": assignment.name,
        "SHARDS": str(shards),
        "LAST_SHARD": str(shards - 1),
        "TIMEOUT": str(minutes),
        "TIMEOUT_SECONDS": str(minutes * 60),
        "TIMEOUT_HMS": f"{minutes // 60:02d}:{minutes % 60:02d}:00",
        "CRON": "17 5 * * *",
        "IMAGE": image,
        "GPU_LINE": f"#SBATCH --gres=gpu:{gpus}" if gpus else "# no GPU requested (grade export regrade-slurm --gpus 1 adds #SBATCH --gres=gpu:1)",
        "GPU_LIMIT": f"              nvidia.com/gpu: {gpus}" if gpus else None,
    }
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for key, value in values.items():
        if value is None:  # a line of its own, left out
            text = text.replace(f"@{key}@\n", "")
        text = text.replace(f"@{key}@", value or "")
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise AssertionError(f"{template}: no value for {', '.join(sorted(set(left)))}")
    return text


def export(target: str, assignment: Assignment, out: Path, *, shards: int, gpus: int = 0) -> list[Path]:
    written = []
    for template, place in TARGETS[target]:
        path = Path(out) / place.format(name=assignment.name)
        atomic.write_text(path, render(template, assignment, shards=shards, gpus=gpus))
        if path.suffix == ".sbatch":
            path.chmod(0o755)
        written.append(path)
    return written

"""The GitHub Actions workflows of a student release.

``actions_workflow`` (what the release carries, ``.github/workflows/grade.yml``) grades
every push from the instructor's autograder bundle: only this assignment's folders of
the private autograder repository are fetched (a sparse checkout), with a read-only
token that is not left in the checkout (``persist-credentials: false``); the student's
repository supplies only their files. On GitHub-hosted runners ``grade`` runs through
``sudo``, so the sandbox reaches the ``namespaces`` tier. The step writes the job
summary (task, points, the reason of each failing check) to ``$GITHUB_STEP_SUMMARY``
and ``::error`` annotations at the student's file; a newer push cancels the run of an
older one (``concurrency``), and the job has a time limit.

``reporter_workflow`` is the same run for courses still using
classroom-resources/autograding-grading-reporter (``--format github``, one runner per
task; the reporter fails without a result for each runner it is told about).

In both, only grade's exit status (0 or 1) says it finished: otherwise (a crash, a
timeout, a refusal) the step replaces its output with ``grade --fallback`` (0 points,
with the reason), and if even the grader cannot run, with a file written at build time.
The fallback needs no bundle (fetching it may be what failed): it takes the task names
from the release's manifest and gives every task 0.
A student can edit the workflow in their own repository (and read what it fetches):
the authoritative grade is the instructor's regrade. Set-up: docs/authoring.md.
"""

from __future__ import annotations

from ...manifest import Assignment
from ..install import TORCH, packages
from . import actions
from . import reporter as github

CHECKOUT = "actions/checkout@v7"
SETUP_PYTHON = "actions/setup-python@v7"
PYTHON = "3.12"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
WORKFLOW_FILE = ".github/workflows/grade.yml"
FALLBACK_FILE = ".github/grade-fallback.txt"
REPORTER_FALLBACK_FILE = ".github/classroom-fallback.txt"
BUNDLE = ".autograder"  # where the bundle is checked out; never a student file
REASON = "the grader did not finish (it crashed or ran out of time); your instructor will regrade"


def _common_steps(assignment: Assignment) -> str:
    name = assignment.name
    return f"""      - uses: {CHECKOUT}
        with:
          persist-credentials: false

      - uses: {SETUP_PYTHON}
        with:
          python-version: "{PYTHON}"

      - name: Install the grader (CPU build of PyTorch)
        continue-on-error: true
        run: |
          python -m pip install {TORCH}
          python -m pip install "${{{{ vars.GRADER_PACKAGE }}}}"{packages(assignment)}

      - name: Fetch this assignment's bundle
        continue-on-error: true
        uses: {CHECKOUT}
        with:
          repository: ${{{{ vars.AUTOGRADER_REPO }}}}
          token: ${{{{ secrets.AUTOGRADER_TOKEN }}}}
          path: {BUNDLE}
          persist-credentials: false
          sparse-checkout: |
            assignments/{name}
            reference/{name}
"""


# grade through sudo where it is there without a password (GitHub-hosted runners): as
# root the sandbox reaches the namespaces tier; elsewhere as this user
_GRADER = """grader="$(command -v grade || echo grade)"
if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then run=(sudo -n "$grader"); else run=("$grader"); fi"""


def _job(title: str, group: str, permissions: tuple[str, ...], time_limit_minutes: int) -> str:
    """A workflow's head: every push, a newer one cancelling the older one's run, and a
    job with a time limit beyond grade's own (installing takes a few minutes)."""
    granted = "".join(f"  {p}\n" for p in permissions)
    return f"""name: {title}
on: [push, workflow_dispatch]

permissions:
{granted}
concurrency:
  group: {group}-${{{{ github.ref }}}}
  cancel-in-progress: true

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: {time_limit_minutes + 10}
    steps:
"""


# the fallback's reason: the exit status and grade's own last word (a broken check file,
# a refusal), which the student sees
_WHY = """  why="exit status $status"
  if [ -s "$log" ]; then why="$why: $(tail -n 1 "$log" | cut -c 1-400)"; fi"""


def _indent(text: str, spaces: int = 10) -> str:
    return "\n".join(" " * spaces + line if line else "" for line in text.splitlines())


def actions_workflow(assignment: Assignment, *, time_limit_minutes: int = 25) -> str:
    name = assignment.name
    seconds = time_limit_minutes * 60
    out = "grade-output.txt"
    script = f"""rm -f {out}
{_GRADER}
status=0
log=$(mktemp)
timeout -k 30 {seconds} "${{run[@]}}" {name} --hidden {BUNDLE} --format actions -o {out} 2>"$log" || status=$?
cat "$log" >&2
if [ "$status" != 0 ] && [ "$status" != 1 ] || [ ! -f {out} ]; then
{_WHY}
  if ! grade {name} --format actions --fallback "{REASON} ($why; see this step's log)" -o {out}.fallback; then
    cp {FALLBACK_FILE} {out}.fallback
  fi
  mv -f {out}.fallback {out}
fi
grep '^::' {out} || true
grep -v '^::' {out} >> "${{GITHUB_STEP_SUMMARY:-/dev/null}}" || true
[ "$status" = 0 ]"""
    return _job("Grade", "grade", ("contents: read",), time_limit_minutes) + f"""{_common_steps(assignment)}
      - name: Grade
        run: |
{_indent(script)}
"""


def fallback_file(assignment: Assignment) -> str:
    return actions.fallback(assignment, REASON) + "\n"


def released_files(assignment: Assignment) -> dict[str, str]:
    """The files a release carries for CI, by their place in the student's repository."""
    return {WORKFLOW_FILE: actions_workflow(assignment), FALLBACK_FILE: fallback_file(assignment)}


def reporter_workflow(assignment: Assignment, *, time_limit_minutes: int = 25) -> str:
    name = assignment.name
    runners = github.runner_names([t.id for t in assignment.tasks])
    env = "\n".join(f"          {r.upper()}_RESULTS: \"${{{{ steps.grade.outputs.{r} }}}}\"" for r in runners.values())
    seconds = time_limit_minutes * 60
    script = f"""rm -f results.txt
{_GRADER}
status=0
log=$(mktemp)
timeout -k 30 {seconds} "${{run[@]}}" {name} --hidden {BUNDLE} --format github -o results.txt 2>"$log" || status=$?
cat "$log" >&2
if [ "$status" != 0 ] && [ "$status" != 1 ] || [ ! -f results.txt ]; then
{_WHY}
  if ! grade {name} --format github --fallback "{REASON} ($why; see the Grade step's log)" -o results.txt; then
    cp {REPORTER_FALLBACK_FILE} results.fallback.txt
    mv -f results.fallback.txt results.txt
  fi
fi
grep '^{github.SUMMARY}=' results.txt | cut -d= -f2- >> "${{GITHUB_STEP_SUMMARY:-/dev/null}}" || true
cat results.txt >> "$GITHUB_OUTPUT"
"""
    permissions = ("checks: write", "actions: read", "contents: read")
    return _job("Autograding", "autograding", permissions, time_limit_minutes) + f"""{_common_steps(assignment)}
      - name: Grade
        id: grade
        run: |
{_indent(script)}

      - name: Report to GitHub Classroom
        uses: {REPORTER}
        env:
{env}
        with:
          runners: {",".join(runners.values())}
"""


def reporter_fallback_file(assignment: Assignment) -> str:
    return github.fallback(assignment, REASON) + "\n"


# the names this module had when the reporter's workflow was the release's
workflow = reporter_workflow

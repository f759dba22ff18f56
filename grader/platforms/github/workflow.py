"""The GitHub Classroom workflow a student release carries.

Every push is graded from the autograder bundle (manifest, public and hidden checks,
data), fetched from the instructor's private repository with a secret; the student's
repository supplies only their files. The result goes to classroom-resources/
autograding-grading-reporter, one runner per task. The reporter fails without a
result for each runner it is told about. Only grade's exit status (0 or 1) says it
finished: otherwise (a crash, a timeout, a refusal) the step replaces results.txt with
`grade --fallback` (0 points, with the reason), and if even the grader cannot run, with
a fallback file written at build time. The one-line summary (score, isolation, edits
ignored) goes to the job summary.
Setting it up: docs/authoring.md, "GitHub Classroom".
"""

from __future__ import annotations

from ...manifest import Assignment
from . import reporter as github

REPORTER = "classroom-resources/autograding-grading-reporter@v1"
FALLBACK_FILE = ".github/classroom-fallback.txt"
REASON = "the grader did not finish (it crashed or ran out of time); your instructor will regrade"


def workflow(assignment: Assignment, *, time_limit_minutes: int = 25) -> str:
    name = assignment.name
    runners = github.runner_names([t.id for t in assignment.tasks])
    env = "\n".join(f"          {r.upper()}_RESULTS: \"${{{{ steps.grade.outputs.{r} }}}}\"" for r in runners.values())
    seconds = time_limit_minutes * 60
    return f"""name: Autograding
on: [push, workflow_dispatch]

permissions:
  checks: write
  actions: read
  contents: read

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: {time_limit_minutes + 10}
    steps:
      - uses: actions/checkout@v4

      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"

      - name: Install the grader (CPU build of PyTorch)
        continue-on-error: true
        run: |
          python -m pip install "torch>=2.1,<3" --index-url https://download.pytorch.org/whl/cpu
          python -m pip install "${{{{ vars.GRADER_PACKAGE }}}}"

      - name: Fetch the hidden checks
        continue-on-error: true
        uses: actions/checkout@v4
        with:
          repository: ${{{{ vars.AUTOGRADER_REPO }}}}
          token: ${{{{ secrets.AUTOGRADER_TOKEN }}}}
          path: autograder

      - name: Grade
        id: grade
        run: |
          rm -f results.txt
          status=0
          timeout {seconds} grade {name} --hidden autograder --format github -o results.txt || status=$?
          if [ "$status" != 0 ] && [ "$status" != 1 ] || [ ! -f results.txt ]; then
            if ! grade {name} --format github --fallback "{REASON} (exit status $status; see the Grade step's log)" -o results.txt; then
              cp {FALLBACK_FILE} results.fallback.txt
              mv -f results.fallback.txt results.txt
            fi
          fi
          grep '^{github.SUMMARY}=' results.txt | cut -d= -f2- >> "${{GITHUB_STEP_SUMMARY:-/dev/null}}" || true
          cat results.txt >> "$GITHUB_OUTPUT"

      - name: Report to GitHub Classroom
        uses: {REPORTER}
        env:
{env}
        with:
          runners: {",".join(runners.values())}
"""


def fallback_file(assignment: Assignment) -> str:
    return github.fallback(assignment, REASON) + "\n"

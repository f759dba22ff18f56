"""The ``grade`` command line: declares options and calls the library; nothing more."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import click
from rich.console import Console

from .errors import GraderError


class UsageProblem(click.ClickException):
    exit_code = 2


class DefaultGroup(click.Group):
    """``grade hw1`` means ``grade run hw1``: an unknown first word is an assignment."""

    def parse_args(self, ctx, args):
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


_terminated = []


def _on_sigterm(signum, frame):
    """SIGTERM (a CI step's `timeout`, a cancelled job) unwinds as Ctrl-C does, so every
    worker is killed and its folder removed; pytest stops on KeyboardInterrupt alone."""
    _terminated.append(signum)
    raise KeyboardInterrupt


def _guard(fn, *args, **kwargs) -> None:
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = fn(*args, **kwargs)
    except GraderError as e:
        raise UsageProblem(str(e)) from None
    except KeyboardInterrupt:
        click.echo("grade: terminated" if _terminated else "grade: interrupted", err=True)
        sys.exit(143 if _terminated else 130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    # Everything is written and flushed; skip the interpreter's teardown of torch,
    # which costs a third of a second on every run and does nothing for the user.
    sys.stdout.flush()
    sys.stderr.flush()
    if _fast_exit:
        os._exit(code)
    sys.exit(code)


# Off under test runners (CliRunner needs a normal return to collect the output).
_fast_exit = "pytest" not in sys.modules


root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), help="Course repository (holds assignments/). Default: found from here."
)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="torch-grader", prog_name="grade")
def main() -> None:
    """Grade PyTorch homework: `grade hw1` checks assignments/hw1 as it stands.

    \b
    Examples:
      grade hw1
      grade list
      grade hw2 --help
    """


@main.command("run")
@click.argument("assignment")
@click.option("--submission", "-s", type=click.Path(path_type=Path), help="Folder, .py file or .ipynb notebook to grade.")
@click.option("--reference", is_flag=True, help="Grade the reference solution (instructors): expect full marks.")
@click.option("--format", "fmt", type=click.Choice(["terminal", "json", "github", "actions", "junit", "gradescope", "classroom50"]), default="terminal", show_default=True, help="How to show the result (classroom50 with -o FILE also writes release-body.md beside FILE).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the result to this file instead of the screen.")
@click.option("--hidden", type=click.Path(file_okay=False, exists=True, path_type=Path), help="The autograder bundle (from grade build --out), or its reference/<assignment>: manifest, checks, data and labels come from it; the submission gives only the student's files.")
@click.option("--public-only", is_flag=True, help="Run only the public checks, even where hidden ones are present.")
@click.option("--no-isolation", is_flag=True, help="Run student code with no sandbox at all (isolation none); a self-check only: authoritative formats refuse it.")
@click.option("--allow-weak-isolation", is_flag=True, help="Grade for an authoritative format even below the manifest's min_isolation; the acceptance is recorded in the result.")
@click.option("--skip-program", is_flag=True, help="Do not re-run the competition's training program (its checks are skipped).")
@click.option("--reveal-private", is_flag=True, help="Score and show the private leaderboard (instructors, after the deadline).")
@click.option("--fallback", metavar="REASON", help="With --format github, actions, gradescope or classroom50: grade nothing, write 0 points for every task with REASON (for a platform whose grading crashed, timed out or was refused).")
@click.option("--watch", is_flag=True, help="Grade, then grade again whenever a student file (or the notebook) is saved, showing what changed first; Ctrl-C stops.")
@root_option
def run_cmd(assignment, submission, reference, fmt, output, hidden, public_only, no_isolation, allow_weak_isolation, skip_program, reveal_private, fallback, watch, root) -> None:
    """Grade ASSIGNMENT (e.g. hw1). Exit 0: all checks passed; 1: some failed; 2: usage error.

    \b
    Examples:
      grade hw1
      grade hw1 --watch
      grade hw2 --submission alice/layers.py --format json -o alice.json
      grade hw2 --reference
      grade hw2 --hidden dist/hw2-autograder --format junit -o report.xml
    """
    from .commands import grade

    if watch:
        from .commands import watch as watch_verb

        if fmt != "terminal" or output is not None or fallback is not None:
            raise UsageProblem("--watch shows results on the terminal: leave out --format, --output and --fallback")
        _guard(
            watch_verb.run, assignment, submission=submission, reference=reference, hidden=hidden, public_only=public_only,
            root=root, isolate=not no_isolation, run_program=not skip_program, reveal_private=reveal_private, console=Console(),
        )  # fmt: skip
        return
    _guard(
        grade.run,
        assignment,
        submission=submission,
        reference=reference,
        fmt=fmt,
        output=output,
        hidden=hidden,
        public_only=public_only,
        root=root,
        isolate=not no_isolation,
        run_program=not skip_program,
        reveal_private=reveal_private,
        fallback=fallback,
        allow_weak=allow_weak_isolation,
    )


@main.command("leaderboard")
@click.argument("assignment")
@click.argument("submissions", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["rich", "csv", "json"]), default="rich", show_default=True, help="Table, CSV or JSON.")
@click.option("--reveal-private", is_flag=True, help="Add the private split's scores (after the deadline).")
@click.option("--hidden", type=click.Path(file_okay=False, exists=True, path_type=Path), help="The autograder bundle, or its reference/<assignment>, holding the labels (default: reference/<assignment>).")
@click.option("--no-isolation", is_flag=True, help="Run programs with no sandbox at all (isolation none); for debugging the grader.")
@root_option
def leaderboard_cmd(assignment, submissions, fmt, reveal_private, hidden, no_isolation, root) -> None:
    """Rank SUBMISSIONS (pred.csv files, folders, .py or .ipynb) on ASSIGNMENT's competition, by public score.

    Each row is named by its student: the folder or repository it came from (a file
    such as pred.csv by its folder, alice.csv by its stem), or NAME=PATH.

    \b
    Examples:
      grade leaderboard hw1 submissions/*/pred.csv
      grade leaderboard hw1 alice=repos/alice bob=downloads/pred-3.csv --format csv
    """
    from .commands import leaderboard

    _guard(leaderboard.run, assignment, list(submissions), fmt=fmt, reveal=reveal_private, hidden=hidden, root=root, isolate=not no_isolation)


@main.command("baselines")
@click.argument("assignment")
@click.option("--train", type=click.Path(dir_okay=False, path_type=Path), help="Training CSV (default: the manifest's train file).")
@click.option("--test", type=click.Path(dir_okay=False, path_type=Path), help="Test CSV (default: the manifest's test file).")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), help="The test set's labels, id and target columns (default: the manifest's labels).")
@click.option("--target-column", metavar="NAME", help="The training file's target column, when it is neither the manifest's target nor the one column the test file lacks.")
@click.option("--margin", type=click.FloatRange(0, 0.9), default=0.1, show_default=True, help="Slack above the fit on the k best features for the first baseline, and below the best fit for the last.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="A table and TOML to paste, or JSON.")
@root_option
def baselines_cmd(assignment, train, test, labels, target_column, margin, fmt, root) -> None:
    """Suggest ASSIGNMENT's competition baselines for a dataset, from the manifest's columns alone.

    Fits closed-form models (a constant, least squares on the best feature, on the
    best few, on all) on the training file, scores them on the labels with the
    manifest's metric and split, and prints [[competition.baselines]] tables to paste.

    \b
    Examples:
      grade baselines hw1
      grade baselines hw1 --train covid.train.csv --test covid.test.csv --labels covid.test.labels.csv
    """
    from .commands import baselines

    _guard(baselines.run, assignment, train=train, test=test, labels=labels, margin=margin, fmt=fmt, root=root, console=Console(), target=target_column)


@main.command("new")
@click.argument("name")
@root_option
def new_cmd(name, root) -> None:
    """Scaffold assignment NAME (manifest, reference with markers, a public and a hidden check) and build it.

    \b
    Examples:
      grade new hw5
      grade hw5 --reference
    """
    from .commands import new

    _guard(new.run, name, root=root, console=Console())


@main.command("build")
@click.argument("assignment")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a student file differs from what the reference builds.")
@click.option("--no-validate", is_flag=True, help="Write without first grading the reference (full marks) and the stubs (0).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Also write the student release and the autograder bundle here (refused if the release leaks hidden material).")
@root_option
def build_cmd(assignment, check, no_validate, out, root) -> None:
    """Write ASSIGNMENT's student files from reference/ASSIGNMENT (solution markers become stubs).

    \b
    Examples:
      grade build hw2
      grade build hw2 --check
      grade build hw2 --out dist/
    """
    from .commands import build

    _guard(build.run, assignment, check=check, validate=not no_validate, root=root, console=Console(), out=out)


@main.command("batch")
@click.argument("assignment")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True, help="Submissions graded at once.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Where results/ and gradebook.csv go. Default: FOLDER-ASSIGNMENT-grades beside FOLDER (FOLDER-ASSIGNMENT-shard-I-of-N with --shard).")
@click.option("--hidden", type=click.Path(file_okay=False, exists=True, path_type=Path), help="The autograder bundle (from grade build --out), or its reference/<assignment> (default: this course repository).")
@click.option("--summary", is_flag=True, help="Show, per check, how many students failed it.")
@click.option("--allow-weak-isolation", is_flag=True, help="Grade even below the manifest's min_isolation; recorded in every result and the gradebook.")
@click.option("--shard", metavar="I/N", help="Grade only shard I of N (I from 0 to N-1): the students whose id hashes to I; merge the shards with grade gradebook merge.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the class report here: one HTML file that opens from disk (needs the `report` extra: matplotlib).")
@root_option
def batch_cmd(assignment, folder, jobs, out, hidden, summary, allow_weak_isolation, shard, report, root) -> None:
    """Regrade every submission in FOLDER (folders, .py, .ipynb or .zip; one per student). Resumable.

    \b
    Examples:
      grade batch hw2 submissions/ -j 2 --summary
      grade batch hw2 submissions/ -j 2 --report hw2-report.html
      grade batch hw2 submissions/ --hidden dist/hw2-autograder --shard 0/4 --out shard-0
    """
    from .commands import batch

    _guard(
        batch.run, assignment, folder, jobs=jobs, out=out, hidden=hidden, show_summary=summary, root=root,
        console=Console(), allow_weak=allow_weak_isolation, shard=shard, report=report,
    )  # fmt: skip


@main.group("gradebook")
def gradebook_group() -> None:
    """A sharded regrade: clone a shard's repositories from the roster, merge the shards' gradebooks.

    \b
    Examples:
      grade gradebook merge gradebook/ shard-0/ shard-1/ shard-2/ shard-3/
      grade gradebook clone roster.csv submissions/ --shard 1/4
    """


@gradebook_group.command("merge")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.argument("shard_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
def gradebook_merge_cmd(out, shard_dirs) -> None:
    """Merge the outputs of grade batch --shard I/N into one gradebook in OUT; refused when a
    shard is missing or given twice, when shards were graded with different bundles or
    graders, or when a student is in two shards.

    \b
    Examples:
      grade gradebook merge gradebook/ shard-0/ shard-1/ shard-2/ shard-3/
    """
    from .commands import gradebook

    _guard(gradebook.merge, out, list(shard_dirs), console=Console())


@gradebook_group.command("clone")
@click.argument("roster", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--shard", metavar="I/N", help="Only the students of shard I of N (as grade batch --shard picks them).")
@click.option("--before", metavar="WHEN", default="", help="Check out each repository's last commit before WHEN (e.g. 2026-12-01T23:59:00Z).")
@click.option("--commits", type=click.Path(dir_okay=False, path_type=Path), help="Write student, repository, commit and any problem, tab-separated, to this file.")
def gradebook_clone_cmd(roster, dest, shard, before, commits) -> None:
    """Clone the repositories of ROSTER (a CSV with student,repository and optional clone
    columns) into DEST/<student>, ready for grade batch DEST. A token for github.com is
    taken from GH_TOKEN. A repository that cannot be cloned is reported and skipped.

    \b
    Examples:
      grade gradebook clone roster.csv submissions/ --shard 1/4 --commits shard-1/commits.tsv
    """
    from .commands import gradebook

    _guard(gradebook.clone, roster, dest, shard=shard, before=before, commits=commits, console=Console())


@main.command("report")
@click.argument("out", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Where the HTML file goes. Default: OUT/report.html.")
@click.option("--hidden", type=click.Path(file_okay=False, exists=True, path_type=Path), help="The autograder bundle the batch graded from (for task titles and the competition's baselines).")
@root_option
def report_cmd(out, output, hidden, root) -> None:
    """Write the class report of OUT, a folder `grade batch` wrote: one self-contained HTML
    file with the score distribution, tasks, the most failed checks, the students to
    look at and, for a competition, public against private scores.

    \b
    Examples:
      grade report submissions-hw2-grades
      grade report submissions-hw2-grades -o hw2-report.html
    """
    from .commands import report

    _guard(report.run, out, output=output, hidden=hidden, root=root, console=Console())


@main.command("export")
@click.argument("target", type=click.Choice(["gradescope", "classroom50", "github-reporter", "regrade-actions", "regrade-kubernetes", "regrade-slurm"]))
@click.argument("assignment")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"), show_default=True, help="Folder to write into.")
@click.option("--shards", type=click.IntRange(1, 1000), default=4, show_default=True, help="regrade-*: how many shards (machines) the class is spread over.")
@click.option("--gpus", type=click.IntRange(0, 16), default=0, show_default=True, help="regrade-kubernetes, regrade-slurm: GPUs to request per shard.")
@root_option
def export_cmd(target, assignment, out, shards, gpus, root) -> None:
    """Write ASSIGNMENT's autograder for TARGET (gradescope: setup.sh, run_autograder and the bundle, zipped;
    classroom50: autograder.py and the bundle, for the config repository; github-reporter: the workflow for
    classroom-resources' grading reporter; regrade-actions: the instructor's sharded class regrade as a GitHub
    Actions workflow for the private autograder repository; regrade-kubernetes: as an Indexed Job;
    regrade-slurm: as a job array).

    \b
    Examples:
      grade export classroom50 hw2 --out dist
      grade export gradescope hw2
      grade export regrade-actions hw2 --out . --shards 8
      grade export regrade-slurm hw2 --shards 16 --gpus 1
    """
    from .commands import export

    _guard(export.run, target, assignment, out=out, root=root, console=Console(), shards=shards, gpus=gpus)


@main.command("list")
@root_option
def list_cmd(root) -> None:
    """List the assignments of this course repository.

    \b
    Examples:
      grade list
      grade list --root ~/course
    """
    from .commands import list as list_verb

    _guard(list_verb.run, root, Console())


if __name__ == "__main__":
    main()

"""``adaptor-leaderboard run``: one submission (an image or an archive) or a queue of them,
each in a container under limits, scored and recorded (docs/organisers.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from adaptor_leaderboard.cli_options import LEDGER_OPTION, RULES_OPTION
from adaptor_leaderboard.cli_options import open_ledger as _open
from adaptor_leaderboard.cli_options import rules_for as _rules
from adaptor_leaderboard.cli_translations import run_translation_tasks, translation_inputs
from adaptor_leaderboard.ledger import LedgerError
from adaptor_score.cli_common import FiniteFloat, console, fatal, refuse


@click.command("run")
@click.argument("image")
@click.option("--team", help="The team (required for one image or archive; a queue names its own).")
@click.option("--institute", default="")
@click.option("--phase", default="test", show_default=True)
@click.option(
    "--input",
    "input_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The (hidden) test images, mounted read-only at /input.",
)
@click.option(
    "--ground-truth",
    "gt_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
)
@click.option(
    "--work",
    "work_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Outputs and logs, one folder per submission.",
)
@click.option(
    "--time-limit", type=FiniteFloat(min=1), default=3600, show_default=True, help="Seconds."
)
@click.option("--memory", default="16g", show_default=True)
@click.option("--pids", type=click.IntRange(min=16), default=1024, show_default=True)
@click.option("--gpu/--no-gpu", default=None, help="Default: all GPUs when the engine has any.")
@click.option(
    "--docker-host",
    help="Engine socket, e.g. unix:///run/podman/podman.sock (default: DOCKER_HOST, else"
    " Docker's or podman's socket, else podman's API started for the run).",
)
@click.option("--translate", "translate", multiple=True, metavar="DOMAIN=FOLDER",
              callback=lambda ctx, p, v: translation_inputs(v),
              help="Also run the image's domain_transformation on this images-only input of"
              " DOMAIN (sim or intraop); repeatable. Reported, never ranked or charged.")  # fmt: skip
@click.option("--publish", "publish_dir", type=click.Path(file_okay=False, path_type=Path),
              help="A queue: publish the board here after each scored submission.")  # fmt: skip
@LEDGER_OPTION
@RULES_OPTION
def run_cmd(
    image, team, institute, phase, input_dir, gt_dir, work_dir, time_limit, memory, pids, gpu,
    docker_host, translate, publish_dir, ledger_path, rules_path,
):  # fmt: skip
    """Run a submission on the test set, score it and record it in the ledger; with --translate,
    run its domain_transformation too. IMAGE is an image name, an archive (docker save, .tar or
    .tar.gz), or a queue: a folder of archives (each file named after its team) or a list file
    (.tsv: team<TAB>image or archive[<TAB>institute]), run one at a time, resumable.

    Exit 0: scored (a queue: everything scored or done before); 1: a run failed; 2: an input
    was refused (nothing claimed or charged for it)."""
    try:
        import docker
    except ImportError:
        fatal("the docker SDK is not installed: pip install 'adaptor-toolkit[leaderboard]'")
    from adaptor_leaderboard.engine import EngineError, engine
    from adaptor_leaderboard.queue import QueueError, is_queue, read_queue
    from adaptor_leaderboard.runner import RunLimits

    rules = _rules(rules_path, phase)
    limits = RunLimits(wall_seconds=time_limit, memory=memory, pids=pids, gpu=gpu)
    queue = is_queue(image)
    if not queue and not team:
        fatal("--team is required for one image or archive")
    if publish_dir and not queue:
        fatal("--publish goes with a queue (after one run: adaptor-leaderboard publish)")
    say = lambda line: console.print(Text(line), soft_wrap=True)  # noqa: E731
    try:
        items = read_queue(image) if queue else None  # a broken list is refused before the engine
        with engine(docker_host, report=say) as client:
            if queue:
                return _run_queue(client, image, items, input_dir, gt_dir, work_dir, rules, limits,
                                  translate, ledger_path, publish_dir, say, rules_path)  # fmt: skip
            r = _run_one(client, image, team, institute, input_dir, gt_dir, work_dir, rules,
                         limits, translate, ledger_path)  # fmt: skip
    except QueueError as e:
        fatal(e)
    except EngineError as e:
        fatal(e)
    except docker.errors.DockerException as e:
        fatal(f"the container engine failed: {e}")
    if r.status == "scored":
        console.print(
            f"submission {r.submission_id} ({team}): scored, F1@{rules.radius:g} {r.f1:.4f},"
            f" {r.run_seconds:.1f} s" + (f" ({r.reason})" if r.reason else ""),
            soft_wrap=True,
        )
    else:
        console.print(f"submission {r.submission_id} ({team}): failed: {r.reason}", soft_wrap=True)
        sys.exit(1)


def _scored_before(client, ledger, team, image):
    """The team's scored submission of this same image or archive, or None."""
    import docker
    from adaptor_leaderboard.archive import ArchiveError
    from adaptor_leaderboard.queue import Item, _earlier, _resolve

    try:
        item = Item(ledger.canonical_team(team) or team, image)
        field, value, _ = _resolve(item, client)
    except (ArchiveError, docker.errors.DockerException, OSError, LedgerError):
        return None  # the run itself will refuse it, naming why
    done = [s for s in _earlier(ledger, item, field, value) if s.status == "scored"]
    return done[0] if done else None


def _translate_missing(client, ledger, submission_id, translate, work_dir, limits, say) -> bool:
    """Run the translation task of an earlier submission on the domains it has no run of yet;
    whether any was run."""
    from adaptor_leaderboard.translations import latest

    have = {r["domain"] for r in latest(ledger) if r["submission_id"] == submission_id}
    missing = {d: p for d, p in translate.items() if d not in have}
    if missing:
        say(f"  submission {submission_id}: domain_transformation on {', '.join(missing)} only")
        run_translation_tasks(client, ledger, submission_id, missing, work_dir, limits)
    else:
        say(f"  submission {submission_id}: every domain asked was translated before")
    return bool(missing)


def _run_one(client, image, team, institute, input_dir, gt_dir, work_dir, rules, limits,
             translate, ledger_path):  # fmt: skip
    from adaptor_leaderboard.runner import run_submission

    with _open(ledger_path) as ledger:
        if translate:  # a submission already scored gets the translation task alone
            done = _scored_before(client, ledger, team, image)
            if done is not None:
                say = lambda line: console.print(Text(line), soft_wrap=True)  # noqa: E731
                say(f"{image} was scored before for {team} (submission {done.submission_id});"
                    " not run again")  # fmt: skip
                _translate_missing(client, ledger, done.submission_id, translate, work_dir,
                                   limits, say)  # fmt: skip
                sys.exit(0)
        try:
            console.print(
                f"running {image} for {team} (time limit {limits.wall_seconds:g} s)", soft_wrap=True
            )
            r = run_submission(
                client, ledger, image, team, input_dir, gt_dir, work_dir, rules, institute, limits,
                report=lambda line: console.print(f"  {line}", soft_wrap=True),
            )  # fmt: skip
        except (PermissionError, ValueError) as e:
            from adaptor_leaderboard.refusals import record_refusal

            try:
                record_refusal(ledger, team, rules.phase, Path(image).name if
                               image.lower().endswith((".tar", ".gz", ".tgz")) else image, str(e))
            except LedgerError as again:  # fmt: skip
                console.print(f"warning: the refusal could not be recorded ({again})")
            refuse(e)
        except LedgerError as e:
            fatal(e)
        if translate:
            run_translation_tasks(client, ledger, r.submission_id, translate, work_dir, limits)
    return r




def _run_queue(client, source, items, input_dir, gt_dir, work_dir, rules, limits, translate,
               ledger_path, publish_dir, say, rules_path=None):  # fmt: skip
    from adaptor_leaderboard.queue import run_queue

    say(f"queue {source}: {len(items)} submissions, one at a time")
    with _open(ledger_path) as ledger:

        def one(item, source):
            from adaptor_leaderboard.runner import run_submission

            r = run_submission(client, ledger, source, item.team, input_dir, gt_dir, work_dir,
                               rules, item.institute, limits, report=lambda line: say(f"  {line}"))  # fmt: skip
            if translate:
                run_translation_tasks(client, ledger, r.submission_id, translate, work_dir, limits)
            return r

        def after_scored():  # the stored publication settings (pubconfig): no section lost
            from adaptor_leaderboard.cli_translations import translation_measures_file
            from adaptor_leaderboard.pubconfig import publish_phase, settle

            settings = settle(ledger_path, {"out": publish_dir, "phase": rules.phase,
                                            "rules": rules_path})  # fmt: skip
            docs = [translation_measures_file(Path(m)) for m in settings.measures]
            publish_phase(ledger, settings, rules, docs)
            say(f"  published {settings.out}")

        def translate_only(item, submission):
            _translate_missing(client, ledger, submission.submission_id, translate, work_dir,
                               limits, say)  # fmt: skip

        counts = run_queue(items, client, ledger, one, Path(work_dir), say,
                           after_scored if publish_dir else None, rules.phase,
                           translate_only if translate else None)  # fmt: skip
    say("queue finished: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    # the rule of every command: 2 when an input was refused, 1 when a run failed, else 0
    if counts.get("refused"):
        sys.exit(2)
    if counts.get("failed"):
        sys.exit(1)

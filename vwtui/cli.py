"""Command line: `vwtui` (the console), `vwtui demo`, `vwtui drill`, `vwtui health`,
`vwtui checklist`,
`vwtui report`, `vwtui init`, `vwtui watch`.

Argument parsing and config loading only; each command lives in its own module and is imported
when chosen, so `vwtui --help` stays fast and the console's first frame waits for nothing else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vwtui import __version__
from vwtui.errors import ConfigError, SessionError, VwtuiError


def _common(parser: argparse.ArgumentParser, *, sub: bool = True) -> None:
    """--config, --profile, --region: accepted before or after the command.

    On a subcommand they default to SUPPRESS, so `vwtui --config X checklist` keeps X
    instead of the subparser resetting it to None.
    """
    default = argparse.SUPPRESS if sub else None
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="config file (default: $VWTUI_CONFIG, then "
                             "$XDG_CONFIG_HOME/vwtui/config.toml)")
    parser.add_argument("--profile", default=default,
                        help="AWS profile (default: boto3's own chain)")
    parser.add_argument("--region", default=default,
                        help="AWS region (default: aws.region in the config)")


def _console_flags(parser: argparse.ArgumentParser) -> None:
    """--read-only and --staging after a console command too (`vwtui demo --staging`); they
    default to SUPPRESS there, so the same flags before the command are kept."""
    parser.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                        help="refuse every AWS call that changes anything")
    parser.add_argument("--staging", action="store_true", default=argparse.SUPPRESS,
                        help="open on the staging instance instead of production")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vwtui",
        description="Backup and recovery console for the Video Window PostgreSQL database "
                    "on AWS RDS.",
    )
    parser.add_argument("--version", action="version", version=f"vwtui {__version__}")
    _common(parser, sub=False)
    parser.add_argument("--read-only", action="store_true",
                        help="refuse every AWS call that changes anything")
    parser.add_argument("--staging", action="store_true",
                        help="open on the staging instance instead of production")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="open the console (the default)")
    _common(run)
    _console_flags(run)

    demo = sub.add_parser("demo", help="open the console against a local sandbox account "
                                       "(moto + a throwaway PostgreSQL)")
    _console_flags(demo)
    demo.add_argument("--scenario", default="healthy",
                      help="start from a troubled account; --list-scenarios shows them")
    demo.add_argument("--list-scenarios", action="store_true", help="list scenarios and exit")
    demo.add_argument("--restore-seconds", type=float, default=20.0,
                      help="how long a restore takes in the sandbox (default 20)")
    demo.add_argument("--latency-ms", type=float, default=0.0,
                      help="add this many milliseconds to every AWS call, as a bastion's round "
                           "trip to AWS would (default 0)")
    demo.add_argument("--scale", action="store_true",
                      help="a big, shared account: 10,000 snapshots of the instance, 10,000 "
                           "recovery points of other resources in the vault, 30 days of jobs "
                           "for 50 resources")

    drill = sub.add_parser("drill", help="open the console on the monthly recovery drill "
                                         "(staging, the rotation's method)")
    _common(drill)
    drill.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                       help="refuse every AWS call that changes anything")

    health = sub.add_parser("health", help="open the console on the backup health view (30 "
                                           "days of backups, their age, size trend, restore "
                                           "tests)")
    _common(health)
    _console_flags(health)

    checklist = sub.add_parser(
        "checklist", help="run the daily checks, the weekly checklist and compliance once and "
                          "print the verdicts (exit 0 all pass, 1 any fail or unknown, 2 config "
                          "error, or AWS not reachable at all: credentials, profile, endpoint, "
                          "region)")
    _common(checklist)
    output = checklist.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON (for machines)")
    output.add_argument("--markdown", action="store_true", help="print Markdown (for tickets)")

    watch = sub.add_parser(
        "watch", help="follow a run another session drives, live and read-only (the RTO "
                      "clock, steps, evidence), from the journals of the state dir")
    _common(watch)
    watch.add_argument("run", nargs="?", metavar="RUN",
                       help="run id (or its start) or journal path; default: the unfinished "
                            "run, or a list to pick from when there are several")

    report = sub.add_parser(
        "report", help="print a recovery or drill run's report in Markdown (for a ticket or "
                       "the runbook log): plan, steps with times, verification, RTO and RPO "
                       "achieved, who ran it, notes")
    _common(report)
    report.add_argument("run", nargs="?", default="latest", metavar="RUN_ID",
                        help="the run's id (its journal's name), or latest (the default)")
    report.add_argument("--json", action="store_true", help="print JSON (for machines)")

    init = sub.add_parser("init", help="write a config file (asks for what flags leave out)")
    init.add_argument("--path", metavar="PATH",
                      help="where to write (default: $XDG_CONFIG_HOME/vwtui/config.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument("--defaults", action="store_true",
                      help="take the runbook's value for everything not given; ask nothing")
    init.add_argument("--region")
    init.add_argument("--production")
    init.add_argument("--staging", dest="staging_name", metavar="STAGING")
    init.add_argument("--vault")
    init.add_argument("--restore-role-arn")
    init.add_argument("--dns-zone")
    init.add_argument("--dns-record")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (ConfigError, SessionError) as exc:
        # Nothing can work until the config, the credentials or the endpoint is fixed.
        print(f"vwtui: {exc}", file=sys.stderr)
        return 2
    except VwtuiError as exc:
        print(f"vwtui: {exc.title}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command or "run"
    if command == "init":
        from vwtui.init import run_init

        return run_init(args)
    if command == "demo":
        from vwtui.demo import run_demo

        return run_demo(args)
    from vwtui import config as config_mod

    config = config_mod.load(args.config).with_read_only(args.read_only)
    _use_state_dir(config)
    if command == "checklist":
        from vwtui.checklist import run_checklist

        return run_checklist(config, args)
    if command == "watch":
        from vwtui.console import run_watch

        return run_watch(config.with_read_only(True), args)

    if command == "report":
        from vwtui.report import run_report_command

        return run_report_command(config, args)
    if command == "run":
        from vwtui.console import run_console

        return run_console(config, args)
    if command == "health":
        from vwtui.console import run_console

        args.view = "health"
        return run_console(config, args)
    if command == "drill":
        from vwtui.console import run_console

        args.drill = True
        args.staging = True  # the console on staging: a drill never restores production
        return run_console(config, args)
    raise ConfigError(f"unknown command {command!r}")  # argparse stops this first


def _use_state_dir(config: object) -> None:
    """state.dir (a shared directory on the bastion) for every part of vwtui that keeps state,
    through $VWTUI_STATE_DIR; one already set in the environment wins."""
    import os

    from vwtui import safefile

    folder = getattr(getattr(config, "state", None), "dir", "")
    if folder and not os.environ.get(safefile.SHARED_DIR_ENV):
        os.environ[safefile.SHARED_DIR_ENV] = os.path.expanduser(folder)


if __name__ == "__main__":
    raise SystemExit(main())

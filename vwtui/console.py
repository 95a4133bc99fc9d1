"""`vwtui` / `vwtui run`: build the services from the config and flags, run the console."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vwtui.config import Config


def _pg_service(config: Config, aws: Any) -> Any:
    """The PostgreSQL service, or None where it is not available (the dashboard needs none).
    Its RDS IAM tokens (database.iam_auth) are signed with the console's AWS session."""
    try:
        from vwtui.services.pg import PgService
    except ImportError:
        return None
    return PgService(config, token_provider=aws.rds_auth_token)


def run_console(config: Config, args: argparse.Namespace) -> int:
    """Run the console in this terminal until the engineer quits; return the exit code."""
    from vwtui.errors import ConfigError
    from vwtui.services.aws import AwsService
    from vwtui.services.early import start_view_reads

    if getattr(args, "staging", False) and not config.instances.staging.strip():
        raise ConfigError("--staging needs instances.staging in the config; it is empty")
    aws = AwsService(config, profile=getattr(args, "profile", None),
                     region=getattr(args, "region", None))
    staging = bool(getattr(args, "staging", False))
    # The first view's reads go out now, before Textual is even imported: the network
    # overlaps the imports and the first paint (services/early.py).
    view = getattr(args, "view", None) or "dashboard"
    start_view_reads(aws, config, config.instances.staging if staging
                     else config.instances.production, view)
    from vwtui.app import VwtuiApp

    app = VwtuiApp(config, aws, _pg_service(config, aws),
                   environment="staging" if staging else "production",
                   demo=bool(getattr(args, "demo", False)),
                   drill=bool(getattr(args, "drill", False)), view=view)
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)


def run_watch(config: Config, args: argparse.Namespace) -> int:
    """`vwtui watch [RUN]`: follow a run read-only (the console is read-only too); 1 when
    there is no run to follow."""
    import sys
    from pathlib import Path

    from vwtui.app import VwtuiApp
    from vwtui.recovery import journal as jr
    from vwtui.recovery.follow import find_run, watchable_runs
    from vwtui.services.aws import AwsService

    name = getattr(args, "run", None)
    paths: tuple[Path, ...]
    if name:
        paths = (find_run(name),)
    else:
        paths = tuple(r.path for r in watchable_runs())
        if not paths:
            print(f"vwtui: no unfinished run in {jr.runs_dir()} to watch; name one "
                  f"(vwtui watch RUN) to read an ended run.", file=sys.stderr)
            return 1
    aws = AwsService(config, profile=getattr(args, "profile", None),
                     region=getattr(args, "region", None))
    app = VwtuiApp(config, aws, None, watch=paths)
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)

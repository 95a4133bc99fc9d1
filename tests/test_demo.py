"""`vwtui demo`'s environment: sandbox + throwaway PostgreSQL, wired as the console sees them."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from vwtui.demo import sandbox_environment
from vwtui.errors import ConfigError
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService
from vwtui.validation import figures


def test_unknown_scenario_is_refused_with_the_choices() -> None:
    with (pytest.raises(ConfigError, match="unknown demo scenario 'nope'; choose one of: healthy"),
          sandbox_environment("nope", 1.0)):
        pass


def test_a_restore_in_the_demo_holds_the_data_of_its_restore_point() -> None:
    """One database stands behind every sandbox instance: a snapshot restore rewinds it, so
    the verify step reads what a real restore of that snapshot would hold."""
    saved = dict(os.environ)
    lines: list[str] = []
    with sandbox_environment("healthy", 0.0, lines.append) as config:
        assert os.environ["AWS_ENDPOINT_URL"] == config.aws.endpoint_url
        state_dir = Path(os.environ["XDG_STATE_HOME"])
        aws = AwsService(config)
        pg = PgService(config)

        async def restore_old_snapshot() -> tuple:
            before = figures(await pg.validate())
            snapshots = await aws.snapshots("video-window", "automated")
            old = snapshots[5]  # five days back
            await aws.call("rds", "RestoreDBInstanceFromDBSnapshot",
                           DBInstanceIdentifier="video-window-restored",
                           DBSnapshotIdentifier=old.identifier)
            after = figures(await pg.validate())
            return old, before, after

        old, before, after = asyncio.run(restore_old_snapshot())
    assert old.created is not None
    assert before.newest["users"] > old.created
    assert after.newest["users"] <= old.created
    assert after.newest["transactions"] <= old.created
    assert 0 < after.row_counts["users"] < before.row_counts["users"]
    assert after.orphaned_records == 0
    assert lines[0].startswith("vwtui demo: starting") and "ready in" in lines[1]
    assert lines[-1].startswith("vwtui demo: stopped")
    assert dict(os.environ) == saved
    assert not state_dir.exists()


def test_demo_without_its_extra_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from vwtui.cli import main

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "moto" else real_find_spec(name, *a))
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "vwtui demo needs the demo extra (moto missing): pip install 'vwtui[demo]'" in err

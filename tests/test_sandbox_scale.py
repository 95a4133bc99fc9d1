"""The scaled sandbox (`vwtui demo --scale`): a big, shared account, and the reads that ask AWS
for only what is ours in it."""

from __future__ import annotations

from typing import Any

import pytest
from fixtures_sandbox import sandbox_client, sandbox_config

from vwtui.config import Config
from vwtui.sandbox.rds import rds_xml, snapshots_xml
from vwtui.services.aws import AwsService

CFG = Config()
PROD, STAGING, VAULT = CFG.instances.production, CFG.instances.staging, CFG.backup.vault


def _start(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    from vwtui.sandbox.server import ENV_UNSET, Sandbox

    sandbox = Sandbox(restore_seconds=1.0, **kwargs).start()
    for name in ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in sandbox.environ({}).items():
        monkeypatch.setenv(name, value)
    return sandbox


def test_snapshot_answer_is_the_one_moto_would_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shim writes DescribeDBSnapshots itself (moto's serializer took seconds over a
    scaled account): byte for byte what moto writes, tags, marker and unencrypted included."""
    sandbox = _start(monkeypatch, scenario="unencrypted-snapshot")
    try:
        snaps = list(sandbox._shim.rds.backend.database_snapshots.values())
        assert any(not s.kms_key_id for s in snaps)
        for start in range(0, len(snaps), 20):
            page = snaps[start:start + 20]
            for marker in ("bWFya2Vy", None):
                ours = snapshots_xml(page, marker)
                moto = rds_xml("DescribeDBSnapshots", {"DBSnapshots": page, "Marker": marker})
                assert ours[0] == moto[0] == 200
                assert ours[2] == moto[2]
    finally:
        sandbox.stop()


async def test_scaled_account_holds_others_and_reads_only_ours(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = _start(monkeypatch, scale=True, latency_ms=1)
    try:
        assert sandbox._state.latency == pytest.approx(0.001)
        backup = sandbox._shim.backup
        rds = sandbox._shim.rds.backend
        ours = {a.lower() for a in sandbox.fleet.instance_arns.values()}
        others = [p for p in backup.recovery_points.values() if p.resource_arn.lower() not in ours]
        assert len(others) == 10_000
        assert {p.vault for p in others} == {VAULT}
        assert {p.resource_type for p in others} >= {"RDS", "EBS", "EFS", "DynamoDB"}
        other_jobs = {j.resource_arn for j in backup.backup_jobs.values()
                      if j.resource_arn.lower() not in ours}
        assert len(other_jobs) == 50
        prod_snaps = [s for s in rds.database_snapshots.values()
                      if s.db_instance_identifier == PROD]
        assert len(prod_snaps) > 10_000

        # The server honours the filters: a page by type, and ByResourceArn on both lists.
        client = sandbox_client(sandbox, "rds")
        page = client.describe_db_snapshots(DBInstanceIdentifier=PROD, SnapshotType="automated")
        assert {s["SnapshotType"] for s in page["DBSnapshots"]} == {"automated"}
        assert "Marker" not in page  # 30 automated: one page
        page = client.describe_db_snapshots(DBInstanceIdentifier=PROD, SnapshotType="manual")
        assert len(page["DBSnapshots"]) == 100 and page["Marker"]
        following = client.describe_db_snapshots(DBInstanceIdentifier=PROD,
                                                 SnapshotType="manual", Marker=page["Marker"])
        first_ids = {s["DBSnapshotIdentifier"] for s in page["DBSnapshots"]}
        assert not first_ids & {s["DBSnapshotIdentifier"] for s in following["DBSnapshots"]}

        aws = AwsService(sandbox_config(sandbox))
        points = await aws.recovery_points_of(VAULT, [PROD])
        assert points and all(p.resource_arn.endswith(f":db:{PROD}") for p in points)
        both = await aws.recovery_points_of(VAULT, [PROD, STAGING])
        assert {p.resource_arn.rsplit(":", 1)[-1] for p in both} == {PROD, STAGING}
        jobs = await aws.backup_jobs_of([PROD, STAGING], vault=VAULT)
        assert jobs and {j.resource_arn.rsplit(":", 1)[-1] for j in jobs} == {PROD, STAGING}
        failed_others = await aws.backup_jobs(state="FAILED")
        assert any(j.resource_arn.lower() not in ours for j in failed_others)
        calls = sandbox.calls("backup:List*")
        assert "backup:ListRecoveryPointsByBackupVault" in calls

        # Page by page: the first page comes before the rest are read.
        pages = aws.snapshot_pages(PROD, "manual")
        first = await anext(pages)
        assert len(first) == 100
        await pages.aclose()  # type: ignore[attr-defined]
        assert sandbox.errors == []
    finally:
        sandbox.stop()

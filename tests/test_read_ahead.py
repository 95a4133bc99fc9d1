"""A long XML list read one request ahead (services/read_ahead.py): the same pages in the same
order as botocore's paginator, each asked for once, a wrong guess dropped, errors raised from
the page that met them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.hooks import HierarchicalEmitter
from fixtures_sandbox import start_sandbox

from vwtui.config import AwsConfig, Config
from vwtui.errors import AccessDenied
from vwtui.sandbox.scale import Scale
from vwtui.services.aws import AwsService
from vwtui.services.read_ahead import ListParser, can_read_ahead, marker_in, pages_ahead

PROD = Config().instances.production
# Five pages of DescribeDBSnapshots for production.
SMALL = Scale(snapshots=420, other_points=10, job_resources=2, job_days=1)


def test_marker_is_read_from_the_raw_answer() -> None:
    body = (b"<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><Marker>dnc6MTAw&amp;x"
            b"</Marker><DBSnapshots><DBSnapshot/></DBSnapshots></DescribeDBSnapshotsResult>"
            b"</DescribeDBSnapshotsResponse>")
    assert marker_in(body) == "dnc6MTAw&x"
    assert marker_in(b"<R><DBSnapshots/></R>") is None  # the last page
    assert marker_in(b"<R><Marker></Marker></R>") is None
    assert marker_in(b"<R><Marker>cut") is None


def _rds_model() -> Any:
    import boto3

    client = boto3.session.Session().client("rds", region_name="eu-west-1",
                                            aws_access_key_id="x", aws_secret_access_key="x")
    return client.meta.service_model.operation_model("DescribeDBSnapshots")


SNAPSHOT = (b"<DBSnapshot><DBSnapshotIdentifier>s&amp;1</DBSnapshotIdentifier>"
            b"<SnapshotCreateTime>2025-11-11T03:04:05.678Z</SnapshotCreateTime>"
            b"<InstanceCreateTime>2025-11-11T03:04:05+01:00</InstanceCreateTime>"
            b"<AllocatedStorage>100</AllocatedStorage><Encrypted>false</Encrypted>"
            b"<Status></Status><PercentProgress>7</PercentProgress>"
            b"<TagList><Tag><Key>a</Key><Value>b</Value></Tag></TagList></DBSnapshot>")


def _answer(snapshots: bytes) -> bytes:
    return (b'<DescribeDBSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
            b"<DescribeDBSnapshotsResult><Marker>m</Marker>" + snapshots +
            b"</DescribeDBSnapshotsResult><ResponseMetadata><RequestId>r</RequestId>"
            b"</ResponseMetadata></DescribeDBSnapshotsResponse>")


def test_only_xml_lists_paged_by_marker_are_read_ahead() -> None:
    import boto3

    session = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x",
                                    aws_secret_access_key="x")
    assert can_read_ahead(session.client("rds"), "DescribeDBSnapshots")
    assert can_read_ahead(session.client("cloudwatch"), "DescribeAlarms") is False  # NextToken
    assert can_read_ahead(session.client("ec2"), "DescribeSnapshots") is False
    assert can_read_ahead(session.client("backup"), "ListBackupJobs") is False
    assert can_read_ahead(session.client("rds"), "DescribeDBInstances")


def test_the_list_parsed_in_one_pass_is_what_botocore_parses() -> None:
    from botocore.parsers import QueryParser

    model = _rds_model()
    body = _answer(b"<DBSnapshots>" + SNAPSHOT * 3 + b"</DBSnapshots>")
    botocore = QueryParser().parse({"body": body, "status_code": 200, "headers": {}},
                                   model.output_shape)
    split = ListParser(model, "DBSnapshots").split(body)
    assert split is not None
    items, rest = split
    assert items == botocore["DBSnapshots"]
    assert [{k: type(v) for k, v in i.items()} for i in items] == \
        [{k: type(v) for k, v in i.items()} for i in botocore["DBSnapshots"]]
    assert items[0]["DBSnapshotIdentifier"] == "s&1" and items[0]["Status"] == ""
    assert items[0]["InstanceCreateTime"].utcoffset().total_seconds() == 3600
    left = QueryParser().parse({"body": rest, "status_code": 200, "headers": {}},
                               model.output_shape)
    assert "DBSnapshots" not in left and left["Marker"] == "m"
    # What it does not expect is left to botocore whole.
    parser = ListParser(model, "DBSnapshots")
    unknown = SNAPSHOT.replace(b"<Status>", b"<NewField>x</NewField><Status>")
    assert parser.split(_answer(b"<DBSnapshots>" + unknown + b"</DBSnapshots>")) is None
    assert parser.split(_answer(b"<DBSnapshots></DBSnapshots>" * 2)) is None
    assert parser.split(_answer(b"")) is None


# ---- against the scaled sandbox ------------------------------------------------------------

@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    sandbox = start_sandbox(monkeypatch, restore_seconds=0, scale=SMALL, latency_ms=5)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def _aws(sandbox: Any) -> AwsService:
    return AwsService(Config(aws=AwsConfig(region=sandbox.region,
                                           endpoint_url=sandbox.endpoint_url, max_attempts=1)))


async def test_same_pages_in_the_same_order_each_asked_for_once(scaled: Any) -> None:
    aws = _aws(scaled)
    sent: list[str | None] = []
    lock = threading.Lock()

    def count(params: dict[str, Any], **_: Any) -> None:
        with lock:
            sent.append(params.get("Marker"))

    aws.client("rds").meta.events.register("provide-client-params.rds.DescribeDBSnapshots",
                                           count)
    plain = await aws.paginate("rds", "DescribeDBSnapshots", "DBSnapshots",
                               DBInstanceIdentifier=PROD)
    pages = len(sent)
    assert pages >= 5 and len(plain) > 400
    sent.clear()
    ahead = await aws.paginate_ahead("rds", "DescribeDBSnapshots", "DBSnapshots",
                                     DBInstanceIdentifier=PROD)
    # The same items, value for value and type for type (the list parsed in one pass).
    assert ahead == plain
    assert [{k: type(v) for k, v in s.items()} for s in ahead] == \
        [{k: type(v) for k, v in s.items()} for s in plain]
    # Every page once, none twice, none guessed wrong.
    assert len(sent) == pages and len(set(sent)) == pages and sent[0] is None
    assert await aws.snapshots(PROD, read_ahead=True) == await aws.snapshots(PROD)
    assert await aws.snapshots(PROD, "manual", read_ahead=True) == \
        await aws.snapshots(PROD, "manual")
    # A JSON service's list is read as paginate reads it.
    vault = Config().backup.vault
    assert await aws.paginate_ahead("backup", "ListRecoveryPointsByBackupVault",
                                    "RecoveryPoints", BackupVaultName=vault) == \
        await aws.paginate("backup", "ListRecoveryPointsByBackupVault", "RecoveryPoints",
                           BackupVaultName=vault)

    scaled.deny("DescribeDBSnapshots")
    with pytest.raises(AccessDenied, match="DescribeDBSnapshots"):
        await aws.snapshots(PROD, read_ahead=True)


# ---- a client whose raw answers say what the test wants ------------------------------------

class _Meta:
    def __init__(self) -> None:
        self.events = HierarchicalEmitter()


class _Client:
    """botocore's shape of a client: `meta.events` and one list method. Page n's raw answer
    names `guesses[n]` as the next Marker; its parsed answer names "p{n+1}"."""

    def __init__(self, pages: int, guesses: dict[int, str] | None = None,
                 fail_at: int | None = None) -> None:
        self.meta = _Meta()
        self.pages, self.guesses, self.fail_at = pages, guesses or {}, fail_at
        self.asked: list[str | None] = []
        self._lock = threading.Lock()

    def list_things(self, **params: Any) -> dict[str, Any]:
        marker = params.get("Marker")
        with self._lock:
            self.asked.append(marker)
        n = 0 if marker is None else int(marker.removeprefix("p"))
        if n == self.fail_at:
            raise RuntimeError(f"page {n} failed")
        following = f"p{n + 1}" if n + 1 < self.pages else None
        guess = self.guesses.get(n, following)
        body = b"<R>" + (f"<Marker>{guess}</Marker>".encode() if guess else b"") + b"</R>"
        self.meta.events.emit("before-parse.things.ListThings",
                              response_dict={"status_code": 200, "body": body})
        return {"Things": [n], **({"Marker": following} if following else {})}


def test_a_wrong_guess_is_dropped_and_the_page_asked_for_again() -> None:
    client = _Client(4, guesses={1: "p3"})
    pages = list(pages_ahead(client, "list_things", {}))
    assert [p["Things"] for p in pages] == [[0], [1], [2], [3]]
    # p3 was guessed after page 1 (wrong: p2 follows it): p2 was asked for with the parsed
    # Marker, and p3 again after page 2 (the dropped request may still be under way).
    assert client.asked[:2] == [None, "p1"]
    assert client.asked.count("p2") == 1 and set(client.asked) == {None, "p1", "p2", "p3"}


def test_an_error_is_raised_from_the_page_that_met_it() -> None:
    client = _Client(5, fail_at=2)
    seen = []
    with pytest.raises(RuntimeError, match="page 2 failed"):
        for page in pages_ahead(client, "list_things", {}):
            seen.append(page["Things"])
    assert seen == [[0], [1]]


def test_other_calls_on_the_shared_client_are_not_read_ahead() -> None:
    client = _Client(3)
    assert len(list(pages_ahead(client, "list_things", {}))) == 3
    client.asked.clear()
    client.list_things()  # a call of its own (another thread, another read): one request
    assert client.asked == [None]


async def test_the_checklist_judges_every_page_of_snapshots(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a scaled account (five pages) with one unencrypted manual snapshot: the checklist's
    snapshot list, read ahead, is every snapshot of the instance, and both encryption items
    fail on the one."""
    from vwtui import checks
    from vwtui.checklist import read_all
    from vwtui.model import Verdict
    from vwtui.sandbox.server import ENV_UNSET, Sandbox

    sandbox = Sandbox(scenario="unencrypted-snapshot", restore_seconds=0, scale=SMALL).start()
    try:
        for name in ENV_UNSET:
            monkeypatch.delenv(name, raising=False)
        for name, value in sandbox.environ({}).items():
            monkeypatch.setenv(name, value)
        aws = _aws(sandbox)
        every = await aws.paginate("rds", "DescribeDBSnapshots", "DBSnapshots",
                                   DBInstanceIdentifier=PROD)
        readings = await read_all(aws, aws.config)
        assert isinstance(readings.snapshots, list)
        assert sorted(s.identifier for s in readings.snapshots) == \
            sorted(s["DBSnapshotIdentifier"] for s in every)
        assert len(every) > 400
        results = {r.id: r for r in checks.evaluate(readings, aws.config)}
        for check_id in ("daily.encryption", "compliance.encryption"):
            assert results[check_id].verdict is Verdict.FAIL
            assert any("video-window-adhoc-export" in line and "NOT encrypted" in line
                       for line in results[check_id].evidence)
    finally:
        sandbox.stop()

"""Names as AWS compares them: every spelling of a protected name is refused everywhere.

RDS identifiers are case-insensitive (RDS stores them in lower case) and Route53 names are
case-insensitive with an optional trailing dot. Hypothesis spells the protected names,
production, staging and both DNS records every way AWS would read as the same name (case,
trailing dot, surrounding whitespace) and sends each spelling through config loading, the
guardrails and `RecoveryOps` against the sandbox: every call is refused, and the sandbox's
request log holds no mutating request on anything protected.

On the code before this change the config, guardrail and RecoveryOps properties fail at their
first upper-case spelling (is_protected and check_record compared spellings exactly, and
moto, like RDS, renames or deletes `VIDEO-WINDOW` as `video-window`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fixtures_sandbox import sandbox_config, shared_sandbox  # noqa: F401  (fixtures)
from hypothesis import given, settings
from hypothesis import strategies as st

from vwtui import names
from vwtui.config import Config, DnsConfig, from_mapping
from vwtui.errors import ConfigError, GuardrailError
from vwtui.recovery.plan import restore_job_metadata
from vwtui.sandbox import STAGING_RECORD
from vwtui.services import guardrails as g
from vwtui.services.aws import AwsService
from vwtui.services.recovery_ops import RecoveryOps

PRODUCTION = "video-window"
STAGING = "video-window-staging"
RECORD = "db.videowindow.internal."
# Config() protects both (staging is listed in instances.protected by default).
PROTECTED = (PRODUCTION, STAGING)
RECORDS = (RECORD, STAGING_RECORD)
SPELLINGS = settings(max_examples=40, deadline=None)
# Each example against the sandbox runs ~10 refused calls: fewer examples keep it to seconds.
SANDBOX_SPELLINGS = settings(max_examples=15, deadline=None)
# Adversarial cases run, by property (printed at the end of the module with -s).
CASES: Counter[str] = Counter()

_SPACES = st.sampled_from(["", " ", "  ", "\t", " \n"])


@st.composite
def spelled(draw: st.DrawFn, name: str, *, dots: bool = True,
            spaces: bool = True) -> str:
    """`name` as someone might type it: any letter's case flipped, surrounding whitespace,
    a trailing dot (for RDS identifiers too: a person reads `video-window.` as the name)."""
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    text = "".join(c.upper() if flip else c.lower() for c, flip in zip(name, flips,
                                                                        strict=True))
    if dots:
        text = text.rstrip(".") + draw(st.sampled_from(["", "."]))
    if spaces:
        text = draw(_SPACES) + text + draw(_SPACES)
    return text


def protected_spelling() -> st.SearchStrategy[str]:
    return st.sampled_from(PROTECTED).flatmap(lambda n: spelled(n))


def record_spelling() -> st.SearchStrategy[str]:
    return st.sampled_from(RECORDS).flatmap(lambda n: spelled(n))


# ---- vwtui.names ------------------------------------------------------------------------

def test_rds_id_and_dns_name_are_what_aws_stores() -> None:
    assert names.rds_id("  Video-Window\t") == "video-window"
    assert names.dns_name(" DB.VideoWindow.Internal. ") == "db.videowindow.internal"
    assert names.dns_name("db.videowindow.internal") == "db.videowindow.internal"
    assert names.fqdn("DB.videowindow.internal") == RECORD
    assert names.fqdn("") == ""
    assert names.same_dns_name("db.videowindow.internal", RECORD)
    assert names.same_rds_id("VIDEO-WINDOW ", PRODUCTION)
    assert not names.same_rds_id("video-window-2", PRODUCTION)


@pytest.mark.parametrize(("text", "reason"), [
    ("video-window", None),
    ("a", None),
    ("A1-b2", None),
    ("a" * 63, None),
    ("", "it is empty"),
    ("   ", "it is empty"),
    ("a" * 64, "it has 64 characters, at most 63 are allowed"),
    ("video_window", "it may hold only letters, digits and hyphens"),
    ("video window", "it may hold only letters, digits and hyphens"),
    ("video-window.", "it may hold only letters, digits and hyphens"),
    ("vidéo", "it may hold only letters, digits and hyphens"),
    ("\u212aelvin", "it may hold only letters, digits and hyphens"),  # the Kelvin sign
    ("1video", "it must start with a letter"),
    ("-video", "it must start with a letter"),
    ("video-", "it must not end with a hyphen"),
    ("video--window", "it must not hold two hyphens in a row"),
])
def test_check_rds_id_follows_aws_rules(text: str, reason: str | None) -> None:
    assert names.check_rds_id(text) == reason


# ---- config: every spelling is protected, and normalised once -----------------------------

@SPELLINGS
@given(name=protected_spelling())
def test_every_spelling_of_a_protected_name_is_protected(name: str) -> None:
    CASES["config.is_protected"] += 2
    assert Config().is_protected(name)
    assert from_mapping({"instances": {"protected": []}}).is_protected(name) \
        == (names.rds_key(name) == PRODUCTION)


@SPELLINGS
@given(production=spelled(PRODUCTION, dots=False), staging=spelled(STAGING, dots=False),
       listed=st.lists(protected_spelling().filter(lambda s: not s.strip().endswith(".")),
                       max_size=3),
       record=spelled(RECORD), staging_record=spelled(STAGING_RECORD), zone=spelled(
           "videowindow.internal."),
       asked=protected_spelling())
def test_config_spelled_any_way_loads_normalised(production: str, staging: str,
                                                 listed: list[str], record: str,
                                                 staging_record: str, zone: str,
                                                 asked: str) -> None:
    CASES["config.load"] += 1
    config = from_mapping({
        "instances": {"production": production, "staging": staging, "protected": listed},
        "dns": {"record": record, "staging_record": staging_record, "zone": zone}})
    assert (config.instances.production, config.instances.staging) == (PRODUCTION, STAGING)
    assert set(config.instances.protected) <= set(PROTECTED)
    assert (config.dns.record, config.dns.staging_record) == (RECORD, STAGING_RECORD)
    assert config.dns.zone == "videowindow.internal."
    assert config.is_protected(PRODUCTION) and config.is_protected(production)
    if names.rds_key(asked) == PRODUCTION or names.rds_key(asked) in config.instances.protected:
        assert config.is_protected(asked)
    assert config.dns_record_for(production) == RECORD
    assert config.dns_record_for(staging) == STAGING_RECORD
    assert config.dns_record_for(f" {PRODUCTION.upper()} ") == RECORD


@SPELLINGS
@given(staging=spelled(PRODUCTION, dots=False))
def test_staging_spelled_as_production_is_refused(staging: str) -> None:
    CASES["config.staging_is_production"] += 1
    with pytest.raises(ConfigError, match=r"instances\.staging must not be the production"):
        from_mapping({"instances": {"staging": staging}})


@SPELLINGS
@given(staging_record=spelled(RECORD))
def test_staging_record_spelled_as_production_record_is_refused(staging_record: str) -> None:
    CASES["config.staging_record_is_record"] += 1
    with pytest.raises(ConfigError, match=r"dns\.staging_record must not be production's"):
        from_mapping({"dns": {"staging_record": staging_record}})


@SPELLINGS
@given(target=protected_spelling(), source=st.sampled_from(PROTECTED).flatmap(spelled))
def test_target_pattern_that_can_give_a_protected_name_is_refused(target: str,
                                                                  source: str) -> None:
    """Patterns that give a valid, new name at the sample time but can give a protected name
    (or the source's own) at another: `%-M` renders 0-59 without padding, so it could be
    anything; and a constant time text that never changes."""
    base = target.strip().rstrip(".")
    production = source.strip().rstrip(".")
    taken = ("a protected instance's name", "the source's own name")
    cases = {
        f"{base[:-1]}{{time:%-M}}": taken,
        "{source}{time:%-M}": taken,
        f"{{time:{base}}}": ("a minute later too",),
    }
    for pattern, why in cases.items():
        CASES["config.target_pattern"] += 1
        with pytest.raises(ConfigError, match=r"restore\.target_pattern") as caught:
            from_mapping({"instances": {"production": production, "staging": "drill-db"},
                          "restore": {"target_pattern": pattern}})
        assert any(w in str(caught.value) for w in why), (pattern, str(caught.value))


# ---- guardrails (pure) ---------------------------------------------------------------------

@SPELLINGS
@given(name=protected_spelling(), typed=protected_spelling())
def test_guardrails_refuse_every_spelling_of_a_protected_name(name: str, typed: str) -> None:
    CASES["guardrails"] += 4
    config = Config()
    with pytest.raises(GuardrailError, match="protected"):
        g.check_delete(config, name, owned={name, *PROTECTED}, typed_confirmation=typed)
    with pytest.raises(GuardrailError, match="protected"):
        g.check_rename(config, name, "someone-else")
    with pytest.raises(GuardrailError, match="protected"):
        g.check_create(config, name, source="video-window-recovery-x")
    with pytest.raises(GuardrailError, match="protected"):
        g.check_not_protected(config, name, "modify")


@SPELLINGS
@given(name=st.sampled_from(["video-window-recovery-202511111030", "other-db"]).flatmap(
    spelled))
def test_guardrails_compare_serving_and_source_normalised(name: str) -> None:
    """The instance the swap put in service and the restore's own source, in any spelling."""
    CASES["guardrails.serving_source"] += 3
    bare = names.rds_key(name)
    with pytest.raises(GuardrailError, match="the swap made it the database"):
        g.check_delete(Config(), name, owned={bare}, typed_confirmation=bare, serving={bare})
    with pytest.raises(GuardrailError, match="belongs to the source"):
        g.check_create(Config(), name, source=bare)
    with pytest.raises(GuardrailError, match="to itself"):
        g.check_rename(Config(), bare, name)


@SPELLINGS
@given(record=spelled(RECORD), source=spelled(STAGING, dots=False),
       own=spelled(STAGING_RECORD), prod=spelled(PRODUCTION))
def test_a_staging_recovery_never_repoints_production_record(record: str, source: str,
                                                            own: str, prod: str) -> None:
    CASES["guardrails.record"] += 3  # the refusals; the two allowed calls are not counted
    config = Config(dns=DnsConfig(staging_record=STAGING_RECORD))
    with pytest.raises(GuardrailError, match="may only repoint"):
        g.check_record(config, record, source)
    with pytest.raises(GuardrailError, match="may only repoint"):
        g.check_record(config, own, prod)
    # The swap's own record, in any spelling, is the one it may repoint.
    g.check_record(config, own, source)
    g.check_record(config, record, prod)
    with pytest.raises(GuardrailError, match="no record"):
        g.check_record(Config(), own, source)  # staging has no record by default


# ---- RecoveryOps against the sandbox: refused, and nothing reaches a protected resource ------

def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _refused(call: Any) -> str:
    try:
        await call
    except GuardrailError as exc:
        return str(exc)
    raise AssertionError("a call on a protected resource was not refused")


class TestRecoveryOpsAgainstTheSandbox:
    """Every spelling through RecoveryOps: refused in the service layer, and the sandbox's
    request log shows no mutating request on a protected instance or record."""

    @pytest.fixture(autouse=True, scope="class")
    def _clean_log(self, shared_sandbox: Any) -> Iterator[None]:
        before = len(shared_sandbox.requests())
        yield
        # Everything this class tried: not one mutating request on a protected name or record
        # (nor any other: every call was refused before it left vwtui).
        assert shared_sandbox.mutations_on((*PROTECTED, *RECORDS), since=before) == []
        assert [r for r in shared_sandbox.requests()[before:] if r.mutating] == []

    @pytest.fixture(scope="class")
    def ops(self, shared_sandbox: Any) -> RecoveryOps:
        return RecoveryOps(AwsService(sandbox_config(shared_sandbox)))

    @pytest.fixture(scope="class")
    def staging_ops(self, shared_sandbox: Any) -> RecoveryOps:
        config = sandbox_config(shared_sandbox).replace(
            dns=DnsConfig(staging_record=STAGING_RECORD))
        return RecoveryOps(AwsService(config))

    @pytest.fixture(scope="class")
    def zone_id(self, ops: RecoveryOps) -> str:
        return str(_run(ops.hosted_zone_id(ops.config.dns.zone)))

    def test_the_sandbox_logs_what_each_mutating_call_would_change(
            self, shared_sandbox: Any) -> None:
        """The request log this class counts from: it sees a rename of VIDEO-WINDOW as one of
        video-window (refused here by AWS's own rule: a dotted identifier)."""
        from vwtui.sandbox.shim import resources_of
        from vwtui.sandbox.wire import WireRequest

        rename = WireRequest("POST", "/", {}, {"content-type":
                                               "application/x-www-form-urlencoded"},
                             b"Action=ModifyDBInstance&DBInstanceIdentifier=VIDEO-WINDOW"
                             b"&NewDBInstanceIdentifier=X", "rds", "eu-west-1",
                             "ModifyDBInstance")
        assert resources_of(rename) == ("video-window", "x")
        upsert = WireRequest("POST", "/", {}, {}, (
            b'<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/'
            b'2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action>'
            b'<ResourceRecordSet><Name>DB.VideoWindow.internal.</Name><Type>CNAME</Type>'
            b'</ResourceRecordSet></Change></Changes></ChangeBatch>'
            b'</ChangeResourceRecordSetsRequest>'), "route53", "us-east-1",
            "ChangeResourceRecordSets")
        assert resources_of(upsert) == ("db.videowindow.internal",)
        seeded = shared_sandbox.requests(mutating=True)
        assert any(r.operation == "CreateDBInstance" and r.resources == (PRODUCTION,)
                   for r in seeded)
        assert shared_sandbox.mutations_on([" Video-Window. "]) != []  # the seed made it

    def test_sandbox_looks_identifiers_up_case_insensitively_as_rds_does(
            self, shared_sandbox: Any) -> None:
        from fixtures_sandbox import sandbox_client

        rds = sandbox_client(shared_sandbox, "rds")
        found = rds.describe_db_instances(DBInstanceIdentifier="Video-Window")["DBInstances"]
        assert [d["DBInstanceIdentifier"] for d in found] == [PRODUCTION]
        backups = rds.describe_db_instance_automated_backups(
            DBInstanceIdentifier="VIDEO-WINDOW")["DBInstanceAutomatedBackups"]
        assert [b["DBInstanceIdentifier"] for b in backups] == [PRODUCTION]
        assert all(key == key.lower() for key in shared_sandbox._shim.rds.backend.databases)

    @SANDBOX_SPELLINGS
    @given(name=protected_spelling(), typed=protected_spelling())
    def test_rename_delete_restore_of_a_protected_name_never_reach_aws(
            self, ops: RecoveryOps, shared_sandbox: Any,
            name: str, typed: str) -> None:
        before = len(shared_sandbox.requests(mutating=True))
        snapshot_time = datetime(2025, 11, 11, 10, 0, tzinfo=UTC)

        async def attempts() -> list[str]:
            calls = [
                ops.rename_instance(name, "video-window-old-202511111030"),
                ops.delete_instance(name, owned={name, *PROTECTED}, typed_confirmation=typed),
                ops.delete_instance(name, owned={name}, typed_confirmation=name,
                                    skip_final_snapshot=True),
                ops.restore_to_point_in_time(PRODUCTION, name, snapshot_time),
                ops.restore_from_snapshot("rds:video-window-2025-11-11-05-00", name),
                ops.start_restore_job(
                    "arn:aws:backup:eu-west-1:123456789012:recovery-point:x",
                    restore_job_metadata(name, "db.t3.micro", None, ())),
            ]
            return [await _refused(c) for c in calls]

        reasons = _run(attempts())
        CASES["recovery_ops.instance"] += len(reasons)
        assert all("Refused" in r for r in reasons)
        assert shared_sandbox.requests(mutating=True)[before:] == []

    @SANDBOX_SPELLINGS
    @given(record=spelled(RECORD), staging_record=spelled(STAGING_RECORD),
           staging=spelled(STAGING, dots=False), production=spelled(PRODUCTION))
    def test_upsert_of_another_sources_record_never_reaches_aws(
            self, staging_ops: RecoveryOps, zone_id: str, shared_sandbox: Any,
            record: str, staging_record: str, staging: str, production: str) -> None:
        before = len(shared_sandbox.requests(mutating=True))

        async def attempts() -> list[str]:
            calls = [
                # A staging drill never moves production's traffic, however it is spelled...
                staging_ops.upsert_record(zone_id, record, "elsewhere.example", source=staging),
                # ...and a production recovery never repoints staging's record.
                staging_ops.upsert_record(zone_id, staging_record, "elsewhere.example",
                                          source=production),
                # A source that is neither: no record at all.
                staging_ops.upsert_record(zone_id, record, "elsewhere.example",
                                          source=f"{staging.strip()}-recovery-x"),
            ]
            return [await _refused(c) for c in calls]

        reasons = _run(attempts())
        CASES["recovery_ops.record"] += len(reasons)
        assert all("may only repoint" in r for r in reasons)
        assert shared_sandbox.requests(mutating=True)[before:] == []


def test_zz_report_adversarial_cases() -> None:
    """Not a check: prints how many adversarial cases the properties above ran (-s)."""
    print(f"\nadversarial cases: {sum(CASES.values())} {dict(CASES)}")


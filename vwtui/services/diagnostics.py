"""Troubleshooting's reads: storage, connectivity, the restore's sizing (reads only).

Each function reads AWS (through `AwsService.call`, errors translated), PostgreSQL (through
`PgService`, read-only) or the network (a TCP connect), and returns a `vwtui.remedies.Finding`:
a failed read becomes an UNKNOWN finding with its own sentence (AccessDenied names the IAM
action), never an exception for the screen to catch.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vwtui import remedies
from vwtui.errors import AwsError, DatabaseError
from vwtui.model import Instance, Verdict, utcnow
from vwtui.remedies import Finding, Probe, SecurityGroup
from vwtui.services.aws import AwsService
from vwtui.services.aws_parse import instance_from
from vwtui.services.pg import PgService

# Seconds a TCP connect may take before it counts as no answer (a security group that drops
# packets answers nothing, so this is how a blocked port shows).
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """An instance, with what troubleshooting needs beside the model: its backup window."""

    instance: Instance
    backup_window: str | None


async def instance_facts(aws: AwsService, identifier: str) -> InstanceFacts:
    """rds:DescribeDBInstances for one instance, with its PreferredBackupWindow."""
    data = await aws.call("rds", "DescribeDBInstances", DBInstanceIdentifier=identifier)
    found = data.get("DBInstances") or []
    if not found:
        from vwtui.errors import NotFound

        raise NotFound(f"No RDS instance named {identifier}.", operation="DescribeDBInstances")
    return InstanceFacts(instance_from(found[0]), found[0].get("PreferredBackupWindow"))


async def free_storage_min(aws: AwsService, identifier: str, *, hours: int = 24,
                           now: datetime | None = None) -> float | None:
    """cloudwatch:GetMetricStatistics, AWS/RDS FreeStorageSpace of the instance: the minimum
    over the last `hours` (hourly periods), in bytes; None when there is no datapoint."""
    end = now or utcnow()
    data = await aws.call("cloudwatch", "GetMetricStatistics", Namespace="AWS/RDS",
                          MetricName="FreeStorageSpace",
                          Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
                          StartTime=end - timedelta(hours=hours), EndTime=end, Period=3600,
                          Statistics=["Minimum"])
    values = [float(p["Minimum"]) for p in data.get("Datapoints", []) if "Minimum" in p]
    return min(values) if values else None


async def storage(aws: AwsService, identifier: str, *, now: datetime | None = None) -> Finding:
    """Storage full? Allocated storage and FreeStorageSpace's minimum over 24 h, judged."""
    try:
        facts = await instance_facts(aws, identifier)
        free = await free_storage_min(aws, identifier, now=now)
    except AwsError as exc:
        return remedies.unknown("storage", "Storage full?", exc.message)
    return remedies.storage_finding(facts.instance, free)


async def tcp_probe(label: str, host: str, port: int,
                    timeout: float = CONNECT_TIMEOUT) -> Probe:
    """A TCP connect to host:port, timed; closed at once (nothing is sent)."""
    began = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return Probe(label, host, port, False, time.perf_counter() - began,
                     f"no answer within {timeout:g} s (dropped: a security group or ACL?)")
    except socket.gaierror as exc:
        return Probe(label, host, port, False, time.perf_counter() - began,
                     f"the name does not resolve here ({exc.strerror})")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Probe(label, host, port, False, time.perf_counter() - began,
                     f"refused ({reason})" if isinstance(exc, ConnectionRefusedError)
                     else reason)
    seconds = time.perf_counter() - began
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Probe(label, host, port, True, seconds)


async def security_groups(aws: AwsService, group_ids: tuple[str, ...],
                          port: int) -> list[SecurityGroup] | str:
    """ec2:DescribeSecurityGroups: each group's name and the ingress rules admitting `port`;
    the ids alone, with why, when EC2 cannot be read."""
    if not group_ids:
        return []
    try:
        data = await aws.call("ec2", "DescribeSecurityGroups", GroupIds=list(group_ids))
    except AwsError as exc:
        return f"{', '.join(group_ids)} (names not read: {exc.message})"
    found = {g.get("GroupId"): g for g in data.get("SecurityGroups", [])}
    return [SecurityGroup(gid, (found.get(gid) or {}).get("GroupName"),
                          _admitting(found[gid], port) if gid in found else None)
            for gid in group_ids]


def _admitting(group: dict[str, Any], port: int) -> tuple[str, ...]:
    sources: list[str] = []
    for rule in group.get("IpPermissions", []):
        protocol = str(rule.get("IpProtocol", ""))
        low, high = rule.get("FromPort"), rule.get("ToPort")
        if protocol != "-1" and not (protocol in ("tcp", "6") and low is not None
                                     and high is not None and int(low) <= port <= int(high)):
            continue
        sources += [str(r.get("CidrIp")) for r in rule.get("IpRanges", []) if r.get("CidrIp")]
        sources += [str(r.get("GroupId")) for r in rule.get("UserIdGroupPairs", [])
                    if r.get("GroupId")]
    return tuple(sources)


async def connectivity(aws: AwsService, identifier: str, *, tunnel: tuple[str, int] | None = None,
                       timeout: float = CONNECT_TIMEOUT) -> Finding:
    """VPC connectivity: a timed TCP connect from this host to the instance's endpoint and port
    (and to database.host, the tunnel, when one is configured), with its security groups."""
    try:
        facts = await instance_facts(aws, identifier)
    except AwsError as exc:
        return remedies.unknown("connectivity", "VPC connectivity", exc.message)
    instance = facts.instance
    port = instance.endpoint_port or aws.config.database.port
    probes: list[Probe] = []
    if instance.endpoint_address:
        probes.append(await tcp_probe("endpoint", instance.endpoint_address, port, timeout))
    if tunnel is not None:
        probes.append(await tcp_probe("database.host", tunnel[0], tunnel[1], timeout))
    groups = await security_groups(aws, instance.security_groups, port)
    return remedies.connectivity_finding(probes, groups)


async def restore_sizing(aws: AwsService, pg: PgService | None, identifier: str) -> Finding:
    """Slow restore: the source's class and the database's size (from the source, read-only)
    against the restore's class (restore.instance_class, empty: the source's)."""
    try:
        facts = await instance_facts(aws, identifier)
    except AwsError as exc:
        return remedies.unknown("restore", "Slow restore", exc.message)
    size: int | None = None
    note: str | None = "no PostgreSQL session configured"
    if pg is not None:
        try:
            report = await pg.activity(facts.instance.endpoint_address,
                                       facts.instance.endpoint_port)
            size, note = remedies.database_bytes(report)
        except DatabaseError as exc:
            note = exc.message
    return remedies.restore_finding(facts.instance, aws.config.restore.instance_class or None,
                                    size, note)


async def activity(aws: AwsService, pg: PgService | None, identifier: str, *,
                   minutes: int = remedies.LONG_RUNNING_MINUTES,
                   now: datetime | None = None) -> Finding:
    """Long-running / blocking queries on the source (read-only session), with its backup
    window (rds:DescribeDBInstances)."""
    title = "Long-running / blocking queries"
    try:
        facts = await instance_facts(aws, identifier)
    except AwsError as exc:
        return remedies.unknown("activity", title, exc.message)
    if pg is None:
        return remedies.unknown("activity", title, "no PostgreSQL session configured")
    try:
        report = await pg.activity(facts.instance.endpoint_address, facts.instance.endpoint_port)
    except DatabaseError as exc:
        return Finding("activity", title, Verdict.UNKNOWN,
                       f"could not be read: {exc.message}",
                       (remedies.window_line(facts.backup_window, now or utcnow()), exc.message))
    return remedies.activity_finding(report, facts.backup_window, now or utcnow(), minutes)

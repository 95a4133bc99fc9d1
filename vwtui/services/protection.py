"""The reads of "back under protection" (issue 13, part 3): for one instance, its deletion
protection, its PITR window, the AWS Backup plan's selections, the configured alarms as they
are defined, and the AWS Backup EventBridge rules. Read concurrently; a read that fails is
None with its reason, so the check says "cannot tell" for that part and judges the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from vwtui.errors import AwsError, NotFound
from vwtui.model import AlarmDefinition, BackupSelection, Instance, ProtectionReadings
from vwtui.services.aws_parse import instance_from

if TYPE_CHECKING:
    from vwtui.services.aws import AwsService

T = TypeVar("T")

# What DescribeAlarms answers that PutMetricAlarm takes back (put-metric-alarm replaces the
# whole alarm: a fix must send every setting it keeps).
PUT_ALARM_KEYS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId",
)


async def read_protection(aws: AwsService, identifier: str, *, plan_name: str,
                          alarm_names: Iterable[str]) -> ProtectionReadings:
    """rds:DescribeDBInstances (DeletionProtection), rds:DescribeDBInstanceAutomatedBackups,
    backup:ListBackupPlans + ListBackupSelections + GetBackupSelection, cloudwatch:
    DescribeAlarms and events:ListRules/ListTargetsByRule, all at once."""
    unreadable: list[tuple[str, str]] = []

    async def read(what: str, call: Awaitable[T]) -> T | None:
        try:
            return await call
        except AwsError as exc:
            unreadable.append((what, exc.message))
            return None

    detail, window, selections, alarms, rules = await asyncio.gather(
        read(f"instance {identifier}", _instance(aws, identifier)),
        read(f"the PITR window of {identifier}", aws.pitr_window(identifier)),
        read(f"the selections of backup plan {plan_name}", _selections(aws, plan_name)),
        read("the CloudWatch alarms", alarm_definitions(aws, alarm_names)),
        read("the EventBridge rules", aws.eventbridge_rules(source="aws.backup")))
    instance, protection = detail if detail is not None else (None, None)
    plan_id, found = selections if selections is not None else (None, None)
    return ProtectionReadings(
        identifier=identifier, instance=instance, deletion_protection=protection,
        pitr_window=window, plan_id=plan_id, selections=found,
        alarms=tuple(alarms) if alarms is not None else None,
        event_rules=tuple(rules) if rules is not None else None,
        unreadable=tuple(unreadable))


async def _instance(aws: AwsService, identifier: str) -> tuple[Instance, bool]:
    data = await aws.call("rds", "DescribeDBInstances", DBInstanceIdentifier=identifier)
    found = data.get("DBInstances", [])
    if not found:
        raise NotFound(f"No RDS instance named {identifier}.", operation="DescribeDBInstances")
    return instance_from(found[0]), bool(found[0].get("DeletionProtection"))


async def _selections(aws: AwsService,
                      plan_name: str) -> tuple[str | None, tuple[BackupSelection, ...]]:
    """The plan's id and every selection of it (none when there is no such plan)."""
    plans = await aws.paginate("backup", "ListBackupPlans", "BackupPlansList")
    plan = next((p for p in plans if p.get("BackupPlanName") == plan_name), None)
    if plan is None:
        return None, ()
    plan_id = str(plan["BackupPlanId"])
    listed = await aws.paginate("backup", "ListBackupSelections", "BackupSelectionsList",
                                BackupPlanId=plan_id)
    bodies = await asyncio.gather(*(
        aws.call("backup", "GetBackupSelection", BackupPlanId=plan_id,
                 SelectionId=item["SelectionId"]) for item in listed))
    return plan_id, tuple(selection_from(plan_id, body) for body in bodies)


def selection_from(plan_id: str, data: dict[str, Any]) -> BackupSelection:
    """A GetBackupSelection answer as a BackupSelection (tags from ListOfTags and from
    Conditions.StringEquals)."""
    body = data.get("BackupSelection") or {}
    tags = [(str(t.get("ConditionKey", "")), str(t.get("ConditionValue", "")))
            for t in body.get("ListOfTags") or []
            if str(t.get("ConditionType", "STRINGEQUALS")).upper() == "STRINGEQUALS"]
    for cond in (body.get("Conditions") or {}).get("StringEquals") or []:
        key = str(cond.get("ConditionKey", ""))
        tags.append((key.removeprefix("aws:ResourceTag/"), str(cond.get("ConditionValue", ""))))
    return BackupSelection(
        selection_id=str(data.get("SelectionId", "")), plan_id=plan_id,
        name=str(body.get("SelectionName", "")), iam_role_arn=str(body.get("IamRoleArn", "")),
        resources=tuple(body.get("Resources") or ()),
        not_resources=tuple(body.get("NotResources") or ()), tags=tuple(tags))


async def alarm_definitions(aws: AwsService, names: Iterable[str]) -> list[AlarmDefinition]:
    """cloudwatch:DescribeAlarms by name: each existing alarm's definition."""
    wanted = [n for n in names if n]
    if not wanted:
        return []
    items = await aws.paginate("cloudwatch", "DescribeAlarms", "MetricAlarms",
                               AlarmNames=wanted)
    return [alarm_definition_from(item) for item in items]


def alarm_definition_from(d: dict[str, Any]) -> AlarmDefinition:
    params = {k: d[k] for k in PUT_ALARM_KEYS if d.get(k) not in (None, [], "")}
    dims = tuple((str(x.get("Name", "")), str(x.get("Value", "")))
                 for x in d.get("Dimensions") or [])
    return AlarmDefinition(name=str(d["AlarmName"]), namespace=d.get("Namespace"),
                           metric=d.get("MetricName"), dimensions=dims, put_params=params)


async def serving_instance(aws: AwsService, zone: str, record: str) -> str | None:
    """The instance a Route53 record points at: route53:ListHostedZonesByName and
    ListResourceRecordSets for the record's CNAME value, then rds:DescribeDBInstances for the
    instance with that endpoint. None when the record or such an instance does not exist."""
    from vwtui.services.calls import dotted

    wanted = dotted(zone).lower()
    data = await aws.call("route53", "ListHostedZonesByName", DNSName=wanted)
    zone_id = next((str(z["Id"]).rsplit("/", 1)[-1] for z in data.get("HostedZones", [])
                    if str(z.get("Name", "")).lower() == wanted), None)
    if zone_id is None:
        raise NotFound(f"No Route53 hosted zone named {wanted}. Check dns.zone in the config.",
                       operation="ListHostedZonesByName")
    name = dotted(record).lower()
    data = await aws.call("route53", "ListResourceRecordSets", HostedZoneId=zone_id,
                          StartRecordName=name, StartRecordType="CNAME", MaxItems="1")
    value = next((str((item.get("ResourceRecords") or [{}])[0].get("Value", ""))
                  for item in data.get("ResourceRecordSets", [])
                  if str(item.get("Name", "")).lower() == name and item.get("Type") == "CNAME"),
                 "")
    address = value.rstrip(".").lower()
    if not address:
        return None
    return next((i.identifier for i in await aws.instances()
                 if (i.endpoint_address or "").rstrip(".").lower() == address), None)


async def production_protection(aws: AwsService, production: str, zone: str, record: str,
                                *, plan_name: str,
                                alarm_names: Iterable[str]) -> ProtectionReadings:
    """The readings of the instance production's DNS record points at (production itself
    when no record is configured or it points at no instance)."""
    identifier = production
    if record:
        identifier = await serving_instance(aws, zone, record) or production
    return await read_protection(aws, identifier, plan_name=plan_name, alarm_names=alarm_names)

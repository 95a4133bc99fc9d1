"""Names as AWS compares them: pure, no I/O.

RDS stores a DB instance identifier in lower case and matches it case-insensitively, so
`Video-Window` and `video-window` are one instance. Route53 names are case-insensitive and
the trailing dot of a fully qualified name is optional, so `DB.videowindow.internal` and
`db.videowindow.internal.` are one record. Every comparison that protects something goes
through here, so no spelling slips past a guardrail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# RDS DB instance identifier rules (CreateDBInstance, RestoreDBInstance*, ModifyDBInstance's
# NewDBInstanceIdentifier): 1-63 letters, digits or hyphens; first a letter; no trailing
# hyphen; no two consecutive hyphens. ASCII only: AWS refuses anything else (and
# str.lower() turns some non-ASCII letters into ASCII ones: the Kelvin sign into "k").
RDS_ID_MAX = 63
_RDS_ID_CHARS = re.compile(r"[a-z0-9-]+")


def rds_id(text: str) -> str:
    """What AWS stores for an RDS identifier typed as `text`: surrounding whitespace
    stripped, lower case."""
    return text.strip().lower()


def rds_key(text: str) -> str:
    """The form a guardrail compares RDS identifiers in: `rds_id` without trailing dots. A
    dotted identifier is not valid to AWS, but a person reads `video-window.` as
    `video-window`, so protection treats it as that name (refusing more, never less)."""
    return rds_id(text).rstrip(".")


def dns_name(text: str) -> str:
    """The comparable form of a Route53 name: surrounding whitespace stripped, lower case,
    without the trailing dot (`DB.Example.internal.` -> `db.example.internal`)."""
    name = text.strip().lower()
    while name.endswith("."):
        name = name[:-1]
    return name


def fqdn(text: str) -> str:
    """A Route53 name as Route53 returns it: `dns_name` plus the trailing dot; empty stays
    empty (an unset record)."""
    name = dns_name(text)
    return name + "." if name else ""


def same_rds_id(a: str, b: str) -> bool:
    """Do `a` and `b` name the same RDS instance (compared as `rds_key`)?"""
    return rds_key(a) == rds_key(b)


def same_dns_name(a: str, b: str) -> bool:
    """Do `a` and `b` name the same Route53 record or zone?"""
    return dns_name(a) == dns_name(b)


def rds_id_in(identifier: str, names: Iterable[str]) -> bool:
    """Is `identifier` one of `names`, as RDS compares identifiers (`rds_key`)?"""
    wanted = rds_key(identifier)
    return any(rds_key(name) == wanted for name in names)


def check_rds_id(text: str) -> str | None:
    """Why `text` (as typed: normalised first) is not a valid RDS DB instance identifier, as
    a clause ("it must start with a letter"); None when it is valid."""
    name = rds_id(text)
    if not name:
        return "it is empty"
    if len(name) > RDS_ID_MAX:
        return f"it has {len(name)} characters, at most {RDS_ID_MAX} are allowed"
    if not text.strip().isascii() or not _RDS_ID_CHARS.fullmatch(name):
        return "it may hold only letters, digits and hyphens"
    if not name[0].isalpha():
        return "it must start with a letter"
    if name.endswith("-"):
        return "it must not end with a hyphen"
    if "--" in name:
        return "it must not hold two hyphens in a row"
    return None

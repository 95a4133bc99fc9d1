"""`vwtui init`: write a config file from flags, asking for what the flags leave out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from vwtui import config as config_mod
from vwtui.errors import ConfigError

# (flag attribute, section, key, question)
QUESTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("region", "aws", "region", "AWS region"),
    ("production", "instances", "production", "Production RDS instance"),
    ("staging_name", "instances", "staging", "Staging RDS instance"),
    ("vault", "backup", "vault", "AWS Backup vault"),
    ("restore_role_arn", "backup", "restore_role_arn", "IAM role for AWS Backup restores"),
    ("dns_zone", "dns", "zone", "Route53 hosted zone"),
    ("dns_record", "dns", "record", "Route53 record the application uses"),
)


def build_config(args: argparse.Namespace,
                 ask: Callable[[str, str], str] | None) -> config_mod.Config:
    """A Config from the flags; each value not given is asked for (defaulted when ask is None)."""
    config = config_mod.Config()
    for attribute, section_name, key, question in QUESTIONS:
        section = getattr(config, section_name)
        value = getattr(args, attribute, None)
        if value is None and ask is not None:
            value = ask(question, getattr(section, key))
        if value is not None:
            value = value.strip()
            if not value:
                raise ConfigError(f"{section_name}.{key} must not be empty")
            config = config.replace(**{section_name: replace(section, **{key: value})})
    # Both instances vwtui recovers *from* are protected: never deleted or renamed by it.
    instances = config.instances
    config = config.replace(instances=replace(
        instances, protected=tuple(dict.fromkeys((instances.production, instances.staging)))))
    # Validate the whole as if it had been read from disk.
    return config_mod.from_mapping(config_mod.to_mapping(config))


def _prompt(question: str, default: str) -> str:
    answer = input(f"{question} [{default}]: ").strip()
    return answer or default


def run_init(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser() if args.path else config_mod.default_path()
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    interactive = not args.defaults and sys.stdin.isatty()
    config = build_config(args, _prompt if interactive else None)
    config_mod.write(config, path, force=args.force)
    print(f"wrote {path}")
    return 0

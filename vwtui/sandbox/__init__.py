"""The AWS sandbox: moto's server plus a shim, seeded like the Video Window account.

`from vwtui.sandbox import Sandbox, SCENARIOS` (moto is imported only when these are used).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SCENARIOS", "STAGING_RECORD", "Sandbox"]

# The staging application's record in the sandbox's zone (the demo's dns.staging_record);
# production's is the config's dns.record.
STAGING_RECORD = "db-staging.videowindow.internal."


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from vwtui.sandbox.server import Sandbox

        return Sandbox
    if name == "SCENARIOS":
        from vwtui.sandbox.scenarios import SCENARIOS

        return SCENARIOS
    raise AttributeError(f"module 'vwtui.sandbox' has no attribute {name!r}")

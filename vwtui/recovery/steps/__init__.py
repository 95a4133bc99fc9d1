"""One executor per step of a recovery: restore, wait, verify, swap, cleanup (and scenario 4's
prerequisites).

An executor is given the run's context (`StepContext`: the pure run state, config, the clock,
the journal and progress reports) and a narrow protocol of the AWS or PostgreSQL calls it needs;
the services satisfy those protocols, so nothing here imports them. An executor returns the
step's new status and what to say of it, or raises `StepFailed` / a `VwtuiError`; the driver
(`vwtui.orchestrator`) journals and reports both.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from vwtui.recovery.state import Record, RunState, StepState, StepStatus

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.model import RdsEvent

Outcome = tuple[StepStatus, str]


class StepContext(Protocol):
    """What an executor may use of the run around it."""

    @property
    def state(self) -> RunState: ...

    @property
    def config(self) -> Config: ...

    @property
    def poll_interval(self) -> float: ...

    def now(self) -> datetime: ...

    def record(self, record: Record) -> None:
        """Journal one record (fsync'd) before the run goes on."""

    def note(self, kind: str, **fields: Any) -> None:
        """Journal a record the state does not produce (progress, an intent)."""

    def progress(self, step: StepState, text: str) -> None:
        """Tell the screen how a long step is getting on."""

    async def before_mutation(self, what: str) -> None:
        """Called right before every mutating AWS call: raises if the run may not act now."""

    async def events(self) -> tuple[RdsEvent, ...]:
        """RDS events of the new instance (best effort, for troubleshooting)."""
        ...

"""Guardrail decisions (pure); the service layer's enforcement is in test_recovery_ops."""

from __future__ import annotations

import pytest

from vwtui.config import Config, UiConfig
from vwtui.errors import GuardrailError
from vwtui.services import guardrails as g

CONFIG = Config()
OWNED = {"video-window-recovery-202511111200"}


def test_read_only_session_refuses_every_mutation() -> None:
    ro = Config(ui=UiConfig(read_only=True))
    with pytest.raises(GuardrailError, match="read-only"):
        g.check_writable(ro, "restore")
    with pytest.raises(GuardrailError, match="read-only"):
        g.check_delete(ro, "video-window-recovery-202511111200", owned=OWNED,
                       typed_confirmation="video-window-recovery-202511111200")


@pytest.mark.parametrize("identifier", ["video-window", "video-window-staging"])
def test_protected_instance_is_never_deleted_whatever_is_typed(identifier: str) -> None:
    with pytest.raises(GuardrailError, match="protected"):
        g.check_delete(CONFIG, identifier, owned={identifier}, typed_confirmation=identifier)
    with pytest.raises(GuardrailError, match="protected"):
        g.check_rename(CONFIG, identifier, identifier + "-old")


def test_delete_of_an_identifier_the_run_did_not_create_is_refused() -> None:
    with pytest.raises(GuardrailError, match="did not create or rename"):
        g.check_delete(CONFIG, "someone-elses-db", owned=OWNED,
                       typed_confirmation="someone-elses-db")


@pytest.mark.parametrize("typed", ["", None, "video-window-recovery", " video-window-x "])
def test_wrong_confirmation_is_refused(typed: str | None) -> None:
    with pytest.raises(GuardrailError, match="Type video-window-recovery-202511111200 exactly"):
        g.check_delete(CONFIG, "video-window-recovery-202511111200", owned=OWNED,
                       typed_confirmation=typed)


def test_owned_and_confirmed_delete_passes() -> None:
    g.check_delete(CONFIG, "video-window-recovery-202511111200", owned=OWNED,
                   typed_confirmation="video-window-recovery-202511111200")


def test_restore_may_not_take_a_protected_or_source_name() -> None:
    with pytest.raises(GuardrailError, match="protected"):
        g.check_create(CONFIG, "video-window-staging", source="video-window")
    g.check_create(CONFIG, "video-window-recovery-202511111200", source="video-window")

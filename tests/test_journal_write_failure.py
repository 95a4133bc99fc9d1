"""A journal write that fails (file size limit, disk full) leaves the journal parseable, with every
earlier record and no torn tail, raises one sentence, and the run goes on once space is back
(issue 9, section 4's last bullet: the journal's half).

The failure is real: a child process with RLIMIT_FSIZE (SIGXFSZ ignored) set just above the
journal's size, so the kernel writes part of the record and then refuses (EFBIG), as a full
disk would."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
REQUEST = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-202511111200",
                          restore_time=NOW - timedelta(hours=1))
PLAN = [{"key": k} for k in ("restore", "wait", "verify", "swap", "cleanup")]

CHILD = textwrap.dedent('''
    import json, resource, signal, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from vwtui.recovery import journal as jr
    from vwtui.recovery.plan import RecoveryRequest, Scenario

    NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
    REQUEST = RecoveryRequest(Scenario.PITR, "video-window",
                              "video-window-recovery-202511111200",
                              restore_time=NOW - timedelta(hours=1))
    PLAN = [{"key": k} for k in ("restore", "wait", "verify", "swap", "cleanup")]

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    journal = jr.Journal.create("run-1", Path(sys.argv[1]) / "runs")
    journal.append(jr.RUN_START, **jr.start_record_fields(REQUEST, PLAN, NOW))
    journal.append(jr.STEP_START, step="restore")
    journal.append(jr.RESTORE_ISSUED, step="restore", created=[REQUEST.target])
    size = journal.path.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    out = {"size_before": size, "errors": [], "sizes": []}
    # 40 bytes of room: the record is written in part, then EFBIG. Then no room at all.
    for room in (40, 0):
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + room, hard))
        try:
            journal.append(jr.STEP_END, step="restore", outcome="done", detail="x" * 300)
        except jr.JournalError as exc:
            out["errors"].append(str(exc))
        out["sizes"].append(journal.path.stat().st_size)
    # Space is back: the same Journal object goes on.
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    journal.append(jr.STEP_END, step="restore", outcome="done", detail="issued")
    journal.append(jr.STEP_START, step="wait")
    print(json.dumps(out))
''')


def test_a_journal_write_that_fails_leaves_it_parseable_and_resumable(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    path = tmp_path / "runs" / "run-1.jsonl"

    # Each failed append raised and left the file as it was before it.
    assert len(out["errors"]) == 2
    assert out["sizes"] == [out["size_before"], out["size_before"]]

    # Every line is one record: nothing glued, no torn tail, and every record is there.
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    events = [json.loads(line)["event"] for line in lines[:-1]]
    assert events == [jr.RUN_START, jr.STEP_START, jr.RESTORE_ISSUED, jr.STEP_END,
                      jr.STEP_START]
    run = jr.load_run(path)
    assert run.steps["restore"].outcome == "done" and run.steps["restore"].detail == "issued"
    assert run.steps["wait"].outcome == "running"
    assert run.created == ["video-window-recovery-202511111200"] and run.restore_issued

    # The error, for the screen: one sentence saying what holds and what to do.
    for error in out["errors"]:
        assert error.startswith(f"Cannot write the run's journal {path}: ")
        assert "nothing more is done in AWS" in error and "press r to retry" in error
        assert "\n" not in error and error.endswith(".") and error.count(". ") == 0

    # And a later session resumes it: found, opened, appended to.
    assert [r.run_id for r in jr.unfinished_runs(tmp_path)] == ["run-1"]
    resumed = jr.Journal.open(path)
    resumed.append(jr.RUN_RESUME)
    assert jr.load_run(path).resumed == 1


def test_a_torn_tail_left_by_a_failed_cut_is_removed_before_the_next_append(
        tmp_path: Path) -> None:
    # If cutting back failed too (the disk gone as well), a fragment of the refused record
    # stays; the same Journal's next append must not glue its record onto it.
    journal = jr.Journal.create("run-1", tmp_path / "runs")
    journal.append(jr.RUN_START, **jr.start_record_fields(REQUEST, PLAN, NOW))
    with journal.path.open("ab") as handle:
        handle.write(b'{"time":"2025-11-11T12:00:00Z","event":"step-en')

    journal.append(jr.STEP_START, step="restore")

    lines = journal.path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == [jr.RUN_START, jr.STEP_START]
    assert jr.load_run(journal.path).steps["restore"].outcome == "running"

"""The job runner: progress, typed results and errors, cancel, and children that really crash."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from studio.core.errors import BadInput, JobCancelled, JobFailed, OutputError
from studio.core.jobs import JobHandle, JobSpec, JobState, ProgressMessage, run_job
from studio.core.jobs.messages import SCHEMA_VERSION
from studio.core.messages import Fix, Message

T = "tests.support.job_targets"


def test_result_progress_and_logs_come_back() -> None:
    seen: list[tuple[float, str]] = []
    logs: list[str] = []
    result = run_job(
        JobSpec("count", f"{T}:count_up", {"steps": 3}),
        lambda f, m: seen.append((f, m)),
        logs.append,
    )
    assert result == {"steps": 3}
    assert [m for _, m in seen] == ["step 1", "step 2", "step 3"]
    assert seen[-1][0] == pytest.approx(1.0)
    assert "did step 2" in logs


def test_library_advice_goes_to_the_job_log_not_the_terminal(capfd) -> None:
    logs: list[str] = []
    assert run_job(JobSpec("advice", f"{T}:library_advice"), None, logs.append) == "done"
    assert any("pre-processing" in line for line in logs), logs
    assert "pre-processing" not in capfd.readouterr().err


def test_user_error_keeps_its_message_class_and_exit_code() -> None:
    with pytest.raises(BadInput, match="The file is wrong. Pick another file.") as raised:
        run_job(JobSpec("bad", f"{T}:bad_input"))
    assert str(raised.value) == "The file is wrong. Pick another file."
    assert raised.value.exit_code == 2
    with pytest.raises(JobCancelled) as cancelled:
        run_job(JobSpec("cancelled", f"{T}:user_cancelled"))
    assert cancelled.value.exit_code == 130


def test_user_error_with_a_message_id_keeps_class_id_fields_and_exit_code(tmp_path: Path) -> None:
    taken = tmp_path / "model.onnx"
    taken.write_bytes(b"mine")
    with pytest.raises(OutputError) as raised:
        run_job(JobSpec("taken", f"{T}:taken_output", {"out": str(taken)}))
    error = raised.value
    assert type(error) is OutputError and error.exit_code == 2
    assert error.msg == Message(
        id="output.exists", fields={"path": str(taken)}, fix=Fix(action="out_or_force")
    )
    assert str(error) == f"{taken} already exists. Choose another --out path or pass --force."
    assert taken.read_bytes() == b"mine"


def test_user_error_of_a_class_outside_errors_py_keeps_it() -> None:
    # Only studio.core.errors' classes used to be found: a HubError came back a StudioError.
    from studio.core.hubs.hf_context import HubError

    with pytest.raises(HubError) as raised:
        run_job(JobSpec("offline", f"{T}:hub_offline_check"))
    assert type(raised.value) is HubError and raised.value.exit_code == 1
    assert raised.value.msg is not None and raised.value.msg.id == "hub.offline_check"
    assert "sign in with --no-check" in str(raised.value)


def test_unexpected_exception_is_a_failed_job_with_traceback_in_the_log() -> None:
    handle = JobHandle(JobSpec("bug", f"{T}:bug"))
    list(handle.events())
    assert handle.state is JobState.FAILED
    assert handle.error is not None and not handle.error.user_error
    assert "ZeroDivisionError" in handle.error.message
    assert any("Traceback" in line for line in handle.logs)


def test_segfaulting_child_fails_cleanly_and_parent_lives() -> None:
    with pytest.raises(JobFailed, match="segmentation fault"):
        run_job(JobSpec("crash", f"{T}:segfault"))


def test_oom_killed_child_is_reported() -> None:
    with pytest.raises(JobFailed, match="killed by the system"):
        run_job(JobSpec("oom", f"{T}:oom_killed"))


def test_worker_of_another_schema_version_fails_the_job_saying_so(tmp_path: Path) -> None:
    # Its messages used to be dropped: the job hung until the worker ended, then failed as
    # "exited unexpectedly" (or waited forever for a worker that never stops).
    out = tmp_path / "model.onnx"
    started = time.monotonic()
    with pytest.raises(JobFailed) as raised:
        run_job(JobSpec("newer", f"{T}:newer_worker", {"out": str(out)}, outputs=[out]))
    assert str(raised.value) == (
        f"The job worker speaks message schema version {SCHEMA_VERSION + 1} and this studio "
        f"{SCHEMA_VERSION}. Reinstall Edge Deploy Studio so the app and its worker are the "
        "same version."
    )
    assert raised.value.exit_code == 1
    assert time.monotonic() - started < 15  # not the worker's 20 s
    assert list(tmp_path.iterdir()) == []  # its half-written output is gone


def test_crash_mid_write_leaves_no_partial_output(tmp_path: Path) -> None:
    out = tmp_path / "result.bin"
    with pytest.raises(JobFailed):
        run_job(JobSpec("crash", f"{T}:killed_while_writing", {"out": str(out)}, outputs=[out]))
    assert list(tmp_path.iterdir()) == []


def test_cancel_terminates_child_and_removes_partial_output(tmp_path: Path) -> None:
    out = tmp_path / "result.bin"
    handle = JobHandle(JobSpec("slow", f"{T}:slow_writer", {"out": str(out)}, outputs=[out]))
    events = handle.events()
    for message in events:
        if isinstance(message, ProgressMessage):
            break
    started = time.monotonic()
    threading.Thread(target=handle.cancel).start()
    for _ in events:
        pass
    assert handle.state is JobState.CANCELLED
    assert time.monotonic() - started < 10
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cancelled_run_job_raises_cancelled(tmp_path: Path) -> None:
    out = tmp_path / "result.bin"
    spec = JobSpec("slow", f"{T}:slow_writer", {"out": str(out)}, outputs=[out])
    handle = JobHandle(spec)
    handle.start()
    handle.cancel()
    list(handle.events())
    assert handle.state is JobState.CANCELLED
    from studio.core.jobs.runner import raise_for_outcome

    with pytest.raises(JobCancelled):
        raise_for_outcome(handle)

"""`studio profile`, `studio diff`, `studio graph` from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.cli.support import IN_PROCESS_ENV
from tests.support.models import make_mlp


def test_profile_json_has_nodes_shares_and_end_to_end(
    tmp_path: Path, demo_model: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "p.csv"
    code = main(
        [
            "profile",
            str(demo_model),
            "--runs",
            "3",
            "--threads",
            "1",
            "--json",
            "--csv",
            str(out),
            "--shape",
            "image=2x1x16x16",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["end_to_end_ms"] > 0 and data["threads"] == 1 and data["runs"] == 3
    assert data["input_shapes"] == {"image": [2, 1, 16, 16]}
    node = data["nodes"][0]
    assert {"name", "op_type", "median_ms", "share", "fused_from"} <= node.keys()
    assert len(list(csv.DictReader(out.open()))) == len(data["nodes"])


def test_profile_human_output_names_fused_nodes(
    demo_model: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["profile", str(demo_model), "--runs", "2", "--top", "5"]) == 0
    text = capsys.readouterr().out
    assert "end to end:" in text and "profiled total:" in text
    assert "stand for your nodes" in text and "/features/features.3/Relu" in text


def test_profile_warns_when_the_machine_was_not_steady(
    demo_model: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.analyze.profile as profile

    monkeypatch.setenv(IN_PROCESS_ENV, "1")  # the patched code must run in this process

    monkeypatch.setattr(profile, "halves_moved", lambda _samples, _medians: 0.37)
    # Pinned: on a busy machine most real sessions may be slowed, which is a different warning.
    monkeypatch.setattr(profile, "steady_sessions", lambda sessions: (sessions, 0))
    assert main(["profile", str(demo_model), "--runs", "2", "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert "warning: layer times moved by up to 37%" in captured.err
    assert "Profile again" in captured.err and "warning" not in captured.out
    assert main(["profile", str(demo_model), "--runs", "2", "--threads", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["halves_moved"] == 0.37


def test_profile_says_how_many_slowed_sessions_it_set_aside(
    demo_model: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.analyze.profile as profile

    monkeypatch.setenv(IN_PROCESS_ENV, "1")  # the patched code must run in this process

    monkeypatch.setattr(profile, "steady_sessions", lambda sessions: (sessions[2:], 2))
    monkeypatch.setattr(profile, "halves_moved", lambda _samples, _medians: 0.0)
    assert main(["profile", str(demo_model), "--runs", "2", "--threads", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sessions_set_aside"] == 2 and 0 < data["runs_set_aside"] < data["layer_runs"]
    assert main(["profile", str(demo_model), "--runs", "2", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "(2 more set aside: over 10% slower than the fastest" in text
    assert "warning" not in capsys.readouterr().err  # 14 of 16 kept: nothing to warn about


def test_profile_warns_when_most_sessions_ran_slowed(
    demo_model: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.analyze.profile as profile

    monkeypatch.setenv(IN_PROCESS_ENV, "1")  # the patched code must run in this process

    monkeypatch.setattr(
        profile, "steady_sessions", lambda sessions: (sessions[:1], len(sessions) - 1)
    )
    assert main(["profile", str(demo_model), "--runs", "2", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert "warning: most of the profiling ran while something else was using this PC" in err
    assert "(23 of 24 sessions ran over 10% slower" in err  # 16, then 8 more


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runs", "0"], "runs must be at least 1"),
        (["--threads", "0"], "threads must be between"),
        (["--shape", "image=axb"], "is not NAME=DIMS"),
        (["--shape", "nope=1x2"], "no input named"),
    ],
)
def test_profile_bad_input_exits_2_with_one_line(
    demo_model: Path, args: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(["profile", str(demo_model), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_profile_refuses_to_overwrite_a_csv(
    tmp_path: Path, demo_model: Path, capsys: pytest.CaptureFixture
) -> None:
    existing = tmp_path / "mine.csv"
    existing.write_text("precious")
    assert main(["profile", str(demo_model), "--csv", str(existing)]) == 2
    assert existing.read_text() == "precious"
    assert "already exists" in capsys.readouterr().err


def test_profile_missing_and_non_onnx_models(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["profile", str(tmp_path / "none.onnx")]) == 2
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    assert main(["profile", str(junk)]) == 2
    assert main(["diff", str(junk), str(junk)]) == 2
    assert main(["graph", str(junk)]) == 2


def test_diff_json_and_text(
    tmp_path: Path, demo_model: Path, capsys: pytest.CaptureFixture
) -> None:
    other = make_mlp(tmp_path / "mlp.onnx")
    assert main(["diff", str(demo_model), str(other), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["removed"]) == 12 and len(data["added"]) == 4
    assert data["a"]["file_size"] == demo_model.stat().st_size
    assert main(["diff", str(other), str(other), "--latency", "--runs", "2"]) == 0
    text = capsys.readouterr().out
    assert "same nodes" in text and "end to end:" in text

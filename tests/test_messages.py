"""Core's messages as data: an id, fields and a fix, rendered by the CLI with flags and by the GUI
with its own controls, in English or Chinese."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.messages import Fix, Message, message
from studio.core.messages.english import TEMPLATES
from studio.core.this_pc import THIS_PC_NAME
from studio.ui import i18n
from studio.ui.i18n import CHINESE, ENGLISH
from studio.ui.messages import CONTROLS, NAMES, catalogue_path, show
from tests.conftest import REPO

FIELD = re.compile(r"\{(\w+)\}")


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language(CHINESE)
    yield
    i18n.set_language(ENGLISH)


def _chinese_templates() -> dict[str, str]:
    data = json.loads(Path(catalogue_path(CHINESE)).read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("@")}


def _core_calls(name: str) -> Iterator[ast.Call]:
    for path in (REPO / "studio" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield node


def test_every_message_id_has_a_chinese_template_with_the_same_fields() -> None:
    chinese = _chinese_templates()
    assert sorted(set(TEMPLATES) - set(chinese)) == [], "add them to " + catalogue_path(CHINESE)
    assert sorted(set(chinese) - set(TEMPLATES)) == [], "stale ids in " + catalogue_path(CHINESE)
    for id, english in TEMPLATES.items():
        assert sorted(FIELD.findall(english)) == sorted(FIELD.findall(chinese[id])), id


def test_every_option_a_core_fix_names_has_a_gui_control() -> None:
    options = {
        keyword.value.value
        for call in _core_calls("Fix")
        for keyword in call.keywords
        if keyword.arg == "option" and isinstance(keyword.value, ast.Constant)
    }
    assert options, "the scan should find the fixes core builds"
    assert sorted(options - set(CONTROLS)) == [], "name their controls in studio/ui/messages.py"


def test_every_message_core_builds_has_a_template() -> None:
    ids = {
        call.args[0].value
        for call in _core_calls("message")
        if call.args and isinstance(call.args[0], ast.Constant)
    }
    assert ids and sorted(ids - set(TEMPLATES)) == []
    with pytest.raises(KeyError, match="no English template"):
        message("drift.no-such-id")


def test_a_fix_is_a_flag_in_the_cli_and_a_control_in_the_gui(chinese: None) -> None:
    from studio.core.compress.run import SYNTHETIC_NOTICE, SYNTHETIC_WARNING

    assert "pass --calib with 10–100 real samples" in SYNTHETIC_WARNING == str(SYNTHETIC_NOTICE)
    assert "--calib" not in show(SYNTHETIC_NOTICE)
    assert "请在“高级选项”中选择“校准样本”" in show(SYNTHETIC_NOTICE)
    i18n.set_language(ENGLISH)
    shown = show(SYNTHETIC_NOTICE)
    assert "choose Calibration samples under Advanced with 10–100 real samples" in shown
    assert "--calib" not in shown
    # As data, a message survives JSON (CLI --json, manifests) and compares by value.
    again = Message.model_validate_json(SYNTHETIC_NOTICE.model_dump_json())
    assert again == SYNTHETIC_NOTICE and again.fix == Fix(option="calib")


def test_the_drift_verdict_is_an_id_with_fields(chinese: None) -> None:
    from studio.core.analyze.drift import drift_verdict, drift_verdict_message

    verdict = drift_verdict_message(0.99995, 1.0)
    assert verdict == Message(id="drift.match_top1", fields={"cosine": "0.9999", "top1": "100"})
    assert drift_verdict(0.99995, 1.0) == (
        "Outputs match the original closely: cosine 0.9999, top-1 agreement 100%"
    )
    assert show(verdict) == "输出与原始模型非常接近：余弦 0.9999，top-1 一致率 100%"
    assert show(drift_verdict_message(0.97)).startswith("输出有明显偏差：余弦 0.970。")
    assert drift_verdict_message(0.5).id == "drift.large"


def test_this_pc_has_one_name() -> None:
    assert NAMES == [THIS_PC_NAME]


def test_the_gui_result_card_names_the_control_not_the_flag(qtbot, tmp_path: Path) -> None:
    from studio.core.compress import compress_model
    from studio.ui.optimize_result import ResultCard
    from tests.support.models import make_mlp

    model = make_mlp(tmp_path / "mlp.onnx", hidden=8)
    result = compress_model(model, "int8-static", tmp_path / "q.onnx")
    assert [n.id for n in result.notices] == ["compress.random_calibration"]
    assert "pass --calib" in result.warnings[0]  # the CLI's words, unchanged
    card = ResultCard()
    qtbot.addWidget(card)
    card.show_result(result)
    notes = card.notes.text()
    assert "choose Calibration samples under Advanced" in notes
    assert "--calib" not in notes and "--eval" not in notes
    assert "choose Evaluation samples under Advanced with real samples" in notes  # drift's own
    assert "SLOWER" not in notes  # shown in its own line when it happens, never twice

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
            if isinstance(node, ast.Call) and name in (
                getattr(node.func, "id", None),
                getattr(node.func, "attr", None),  # messages.message(...)
            ):
                yield node


def test_every_message_id_has_a_chinese_template_with_the_same_fields() -> None:
    chinese = _chinese_templates()
    assert sorted(set(TEMPLATES) - set(chinese)) == [], "add them to " + catalogue_path(CHINESE)
    assert sorted(set(chinese) - set(TEMPLATES)) == [], "stale ids in " + catalogue_path(CHINESE)
    for id, english in TEMPLATES.items():
        # {Fix} (the fix starting a sentence) is {fix} in a language without capitals.
        fields = sorted(f.replace("Fix", "fix") for f in FIELD.findall(english))
        assert fields == sorted(f.replace("Fix", "fix") for f in FIELD.findall(chinese[id])), id


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


def test_the_chip_verdict_is_read_part_after_part(chinese: None) -> None:
    from studio.core.chips.catalogue import get_chip
    from studio.core.chips.check import FallbackOp, MemoryEstimate
    from studio.core.chips.verdict import chip_verdict, english
    from studio.ui.messages import show_parts

    npu = get_chip("qualcomm-snapdragon-8-gen-3")
    memory = MemoryEstimate(
        weights_bytes=5e9,
        activations_bytes=1e9,
        kv_cache_bytes=0,
        context=None,
        total_bytes=6e9,
        capacity_bytes=8e9,
        fits=True,
        tight=True,
    )
    fallback = [FallbackOp(op_type="Loop", count=2, flops_share=0.1, reason="control flow")]
    parts, level, _ = chip_verdict(npu, 0.9, fallback, memory, True, ["it is quantized"])
    assert [p.id for p in parts] == [
        "chip.some_fall_back.other",
        "chip.once.shapes",
        "chip.and.quantized",
        "chip.memory_tight",
    ]
    assert level == "warning"
    assert english(parts) == (
        "Runs, 2 ops fall back to the CPU (10% of compute) once its input sizes are fixed and "
        "it is quantized; memory is tight (6.0 GB of 8.0 GB)"
    )
    assert show_parts(parts, english(parts)) == (
        "可以运行，2 个算子回退到 CPU（占计算量的 10%），前提是固定输入尺寸并完成量化；"
        "内存紧张（6.0 GB，共 8.0 GB）"
    )
    assert show_parts([], "Runs on the CPU") == "Runs on the CPU"  # a row saved before ids


def test_the_profile_note_is_an_id_with_fields(chinese: None) -> None:
    from studio.core.analyze.profile import overhead_message, overhead_sentence

    assert show(overhead_message(0.064, 0.117)).startswith(
        "各层耗时加起来是 0.117 ms，比实际的 0.064 ms 多 83%"
    )
    assert show(overhead_message(0.2, 0.1)).startswith("各层耗时加起来是 0.100 ms，少于")
    assert overhead_sentence(0.2, 0.1).startswith("The per-layer times add up to 0.100 ms, less")


def test_this_pc_has_one_name(chinese: None) -> None:
    from studio.core.chips.catalogue import this_pc as this_pc_chip
    from studio.core.hubs.local import LocalHub
    from studio.ui.messages import this_pc

    assert NAMES == [THIS_PC_NAME]  # the GUI's marker for the catalogue is core's name
    spellings = {"this pc", "this computer", "this machine"}
    found = [
        f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}"
        for path in (REPO / "studio").rglob("*.py")
        if path.relative_to(REPO).as_posix()
        not in ("studio/core/this_pc.py", "studio/ui/messages.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and str(node.value).lower() in spellings
    ]
    assert not found, "use studio.core.this_pc.THIS_PC_NAME:\n" + "\n".join(found)
    assert LocalHub.title == THIS_PC_NAME and this_pc_chip().name == f"{THIS_PC_NAME} (CPU)"
    assert this_pc() == "这台电脑"


def test_the_gui_result_card_names_the_control_not_the_flag(qtbot, tmp_path: Path) -> None:
    from studio.core.compress import compress_model
    from studio.ui.pages.optimize.optimize_result import ResultCard
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


def test_a_user_error_keeps_its_message_across_the_job_boundary(qtbot, tmp_path: Path) -> None:
    from studio.core.errors import BadInput
    from studio.core.jobs import JobSpec, run_job
    from studio.ui.jobs_qt import QtJob
    from tests.support.models import make_mlp

    model = make_mlp(tmp_path / "mlp.onnx", hidden=8)
    kwargs = {
        "model": str(model),
        "method": "int8-static",
        "out": str(tmp_path / "q.onnx"),
        "calib": str(tmp_path / "missing"),
    }
    spec = JobSpec(title="compress", target="studio.core.compress:compress_model", kwargs=kwargs)
    with pytest.raises(BadInput) as raised:
        run_job(spec)
    assert raised.value.msg is not None and raised.value.msg.id == "samples.missing"
    assert "or pass --calib with another path" in str(raised.value)  # the CLI's words
    job = QtJob(spec)
    with qtbot.waitSignal(job.failed, timeout=120_000) as failed:
        job.start()
    shown = failed.args[0]
    assert "choose Calibration samples under Advanced" in shown and "--calib" not in shown


# Modules whose user-facing errors are ids now: none of their error sentences may name a flag.
CONVERTED = [
    "atomic.py",
    "bundle/folder.py",
    "compress/run.py",
    "compress/graph.py",
    "compress/passes.py",
    "compress/channels.py",
    "model/convert.py",
    "model/fix_shapes.py",
    "model/shapes.py",
    "analyze/profile.py",
    "chips/check.py",
    "devices/listing.py",
    "devices/adb_device.py",
    "devices/this_pc.py",
    "devices/deploy.py",
    "devices/run.py",
    "samples/synthetic.py",
    "samples/images.py",
    "generate/export.py",
    "generate/llm_bundle.py",
    "ovgenai/export.py",
    "hubs/auth.py",
    "hubs/modelscope.py",
    "hubs/hf_cache.py",
    "analyze/diff.py",
    "compile/common.py",
    "compile/qualcomm.py",
    "serve/server.py",
]
ERRORS = {"StudioError", "BadInput", "OutputError", "JobFailed", "HubError"}
FLAG = re.compile(r"--[a-z]")


def _texts(node: ast.AST) -> Iterator[str]:
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            yield part.value


@pytest.mark.parametrize("module", CONVERTED)
def test_converted_modules_raise_no_error_naming_a_flag(module: str) -> None:
    tree = ast.parse((REPO / "studio" / "core" / module).read_text(encoding="utf-8"))
    calls = [
        call
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and (
            getattr(call.func, "id", None) in ERRORS
            or getattr(call.func, "attr", None) == "ensure_opset"  # its why goes in an error
        )
    ]
    flagged = [
        f"{module}:{call.lineno}: {text!r}"
        for call in calls
        for text in _texts(call)
        if FLAG.search(text)
    ]
    assert not flagged, "make them message ids with a Fix:\n" + "\n".join(flagged)


def _core_messages() -> Iterator[Message]:
    """Every message core builds with a literal id and fix, its fields filled with 'x'."""
    for call in _core_calls("message"):
        if not (call.args and isinstance(call.args[0], ast.Constant)):
            continue
        id = call.args[0].value
        fix = None
        if len(call.args) > 1 and isinstance(call.args[1], ast.Call):
            values = {k.arg: getattr(k.value, "value", None) for k in call.args[1].keywords}
            if None in values.values():
                continue  # an option chosen at run time (samples.missing's calib or eval)
            fix = Fix(**{k: str(v) for k, v in values.items() if k})
        fields = {name: "x" for name in FIELD.findall(TEMPLATES[id]) if name not in ("fix", "Fix")}
        yield Message(id=id, fields=fields, fix=fix)


@pytest.mark.parametrize("language", [ENGLISH, CHINESE])
def test_the_gui_wording_of_every_core_message_names_no_flag(language: str) -> None:
    messages = list(_core_messages())
    assert len(messages) > 40, "the scan should find the messages core builds"
    i18n.set_language(language)
    try:
        flagged = [f"{m.id}: {show(m)}" for m in messages if FLAG.search(show(m))]
    finally:
        i18n.set_language(ENGLISH)
    assert not flagged, "give their options a control or their actions GUI words:\n" + "\n".join(
        flagged
    )
    # The CLI keeps its flags: the same data renders them.
    assert any("--force" in m.english() for m in messages if m.id == "output.exists")


def test_converted_errors_raise_with_ids_the_gui_words_in_chinese(
    chinese: None, tmp_path: Path
) -> None:
    from studio.core.analyze.profile import check_profile_arguments
    from studio.core.atomic import atomic_path
    from studio.core.bundle.folder import check_destination
    from studio.core.errors import BadInput, OutputError
    from studio.core.model.shapes import parse_shapes
    from studio.ui.messages import shown_error

    taken = tmp_path / "taken.onnx"
    taken.write_bytes(b"x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    cases = [
        (lambda: check_profile_arguments(0, 1, None), BadInput, "profile.runs_low"),
        (lambda: parse_shapes(["x=1xbanana"]), BadInput, "shapes.bad"),
        (lambda: atomic_path(taken).__enter__(), OutputError, "output.exists"),
        (lambda: check_destination(tmp_path / "mine", True), OutputError, "bundle.out_not_bundle"),
    ]
    shown = []
    for call, kind, id in cases:
        with pytest.raises(kind) as raised:
            call()
        assert raised.value.msg is not None and raised.value.msg.id == id
        assert "--" not in shown_error(raised.value)
        shown.append(shown_error(raised.value))
    with pytest.raises(BadInput, match="Pass --runs 20 for a stable median"):  # the CLI's
        check_profile_arguments(0, 1, None)
    assert (
        shown[0]
        == "运行次数至少为 1（当前为 0）。请在“分析”步骤中设置“运行次数”，以得到稳定的中位数"
    )
    assert shown[2] == f"{taken} 已存在。请选择另一个输出位置"
    assert shown[3].endswith("请选择一个空的或新的文件夹（Studio 从不删除你的文件）")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_device_states_are_ids_the_gui_words_in_chinese(chinese: None) -> None:
    from studio.core.devices.states import explain, explain_messages

    _, status, fix = explain_messages("unauthorized")
    assert show(status) == "未授权" and fix is not None and show(fix).startswith("请解锁手机")
    assert show(explain_messages("recovery")[1]) == "处于 recovery 模式"
    assert explain_messages("device")[2] is None
    assert explain("unauthorized")[1] == "Not authorized"  # the CLI's words


def test_a_token_note_is_an_id_the_gui_words_in_chinese(chinese: None, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    from studio.core.hubs import tokens
    from tests.support.hub_fixtures import MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())  # empty: the environment's token is the one in use
    monkeypatch.setenv("HF_TOKEN", "hf_" + "x" * 30)
    try:
        status = tokens.token_status()
        assert status.note == "Using the token from the HF_TOKEN environment variable"
        assert status.note_message is not None
        assert show(status.note_message) == "正在使用 HF_TOKEN 环境变量中的令牌"
        keyring.set_keyring(fail.Keyring())
        kept = tokens.save_token("hf_" + "y" * 30)
        assert kept.where == "session" and kept.note.startswith("No secure keyring was found")
        assert kept.note_message is not None
        assert show(kept.note_message).startswith("这台电脑上没有找到安全的密钥环")
    finally:
        tokens._SESSION.clear()
        keyring.set_keyring(previous)

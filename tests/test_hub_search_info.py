"""Search, details, model card and memory verdicts through the real client and a loopback hub."""

from __future__ import annotations

import pytest

from studio.core.errors import BadInput
from studio.core.hubs import SearchQuery
from studio.core.hubs.hf_context import HubError
from studio.core.hubs.memory import estimate
from tests.support.hub_fixtures import *  # noqa: F403


def test_search_follows_link_pages_one_request_at_a_time(hf_hub, hub_server) -> None:
    pager = hf_hub.search(SearchQuery(text="text", page_size=2, sort="downloads"))
    first = pager.next_page()
    assert [h.id for h in first.hits] == ["acme/text-4", "acme/text-3"]
    assert first.has_more and first.number == 1
    assert hub_server.hub.count("GET", "^/api/models$") == 1
    second = pager.next_page()
    third = pager.next_page()
    assert [h.id for h in second.hits + third.hits] == ["acme/text-2", "acme/text-1", "acme/text-0"]
    assert not third.has_more
    assert hub_server.hub.count("GET", "^/api/models$") == 3


def test_search_filters_and_sorts(hf_hub) -> None:
    onnx = hf_hub.search(SearchQuery(library="onnx", task="text-generation")).next_page()
    assert [h.id for h in onnx.hits] == ["bigco/gated-llm"]
    assert onnx.hits[0].gated
    by_likes = hf_hub.search(SearchQuery(text="text", sort="likes")).next_page()
    assert [h.likes for h in by_likes.hits] == [10, 9, 8, 7, 6]
    updated = hf_hub.search(SearchQuery(author="acme", sort="updated")).next_page()
    assert updated.hits[0].id == "acme/text-4"
    hit = hf_hub.search(SearchQuery(text="tiny")).next_page().hits[0]
    assert hit.downloads == 900 and hit.size and hit.size > 40_000 and hit.last_modified


def test_info_has_files_params_license_and_memory(hf_hub) -> None:
    details = hf_hub.info("acme/tiny-mlp", memory_budget=8 * 1024**3)
    assert details.license == "mit"
    assert details.parameters == 65536 + 256
    assert {f.path for f in details.files} >= {"onnx/model.onnx", "model.safetensors"}
    assert all(f.size for f in details.files)
    assert details.memory is not None and details.memory.verdict == "fits"
    assert details.revision and len(details.revision) == 40
    assert not details.gated


def test_info_of_gated_repo_says_gated(hf_hub) -> None:
    details = hf_hub.info("bigco/gated-llm")
    assert details.gated and details.gated_mode == "manual"


def test_params_from_safetensors_headers_when_api_has_none(hf_hub, hub_server) -> None:
    hub_server.hub.repos["acme/tiny-mlp"].safetensors = None
    details = hf_hub.info("acme/tiny-mlp")
    assert details.parameter_dtypes == {"F16": 65536, "F32": 256}
    assert any(
        h.get("range") or h.get("Range")
        for m, p, h in hub_server.hub.requests
        if p.endswith("model.safetensors") and m == "GET"
    )


def test_model_card_without_yaml_header(hf_hub) -> None:
    card = hf_hub.card("acme/tiny-mlp")
    assert card.startswith("# Tiny MLP") and "license" not in card


def test_repo_without_card_gives_empty_text(hf_hub) -> None:
    assert hf_hub.card("acme/text-1") == ""


def test_unknown_repo_says_which(hf_hub) -> None:
    with pytest.raises(BadInput, match="No model named 'acme/nope'"):
        hf_hub.info("acme/nope")


def test_unknown_revision_says_so(hf_hub) -> None:
    with pytest.raises(BadInput, match="revision does not exist"):
        hf_hub.info("acme/tiny-mlp", revision="v9")


def test_server_error_is_retried_then_succeeds(hf_hub, hub_server) -> None:
    hub_server.hub.fault("GET", "^/api/models/acme/tiny-mlp$", status=503, times=2)
    assert hf_hub.info("acme/tiny-mlp").id == "acme/tiny-mlp"
    assert hub_server.hub.count("GET", "^/api/models/acme/tiny-mlp$") == 3


def test_persistent_server_error_is_a_clear_error(hf_hub, hub_server) -> None:
    hub_server.hub.fault("GET", "^/api/models$", status=502, times=99)
    with pytest.raises(HubError, match=r"failing \(HTTP 502\) after 4 tries"):
        hf_hub.search(SearchQuery(text="x")).next_page()


def test_unreachable_hub_says_what_to_do(hf_ctx) -> None:
    from studio.core.hubs.huggingface import HuggingFaceHub

    hf_ctx.endpoint = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(HubError, match=r"Cannot reach .* offline mode"):
        HuggingFaceHub(hf_ctx).info("acme/tiny-mlp")


@pytest.mark.parametrize(
    ("budget", "verdict"),
    [(10 * 1024**3, "fits"), (1_500_000_000, "tight"), (512 * 1024**2, "won't fit")],
)
def test_memory_verdicts_with_numbers(budget: int, verdict: str) -> None:
    result = estimate(budget_bytes=budget, parameter_dtypes={"F16": 500_000_000})
    assert result is not None and result.verdict == verdict
    assert result.weights_bytes == 1_000_000_000
    assert "needs about" in result.text() and verdict.capitalize() in result.text()


def test_memory_counts_one_weight_format_not_all() -> None:
    files = [("model.safetensors", 1000), ("onnx/model.onnx", 1000), ("onnx/model_fp16.onnx", 500)]
    result = estimate(budget_bytes=10**9, files=files)
    assert result is not None and result.weights_bytes == 1000


def test_memory_budget_defaults_to_this_pc() -> None:
    from studio.core.hubs.memory import this_pc_memory

    result = estimate(parameter_dtypes={"F32": 10})
    assert result is not None and result.budget_bytes == this_pc_memory() > 0

"""Downloads into the standard HF cache: patterns, resume, cancel, failures, partial snapshots."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download, snapshot_download

from studio.core.errors import BadInput, JobCancelled, OutputError
from studio.core.hubs import hf_cache
from studio.core.hubs.hf_context import DownloadCorrupted, HubError
from studio.core.hubs.huggingface import HuggingFaceHub
from tests.support.hub_fixtures import *  # noqa: F403

TINY = "acme/tiny-mlp"


def snapshot_of(hf_ctx, repo: str) -> Path:
    storage = hf_cache.repo_folder(hf_ctx.cache_dir, repo)
    commit = hf_cache.resolve_commit(storage, "main")
    assert commit
    return storage / "snapshots" / commit


def state_of(hf_hub, repo: str) -> str:
    states = [m.state for m in hf_hub.cached() if m.id == repo]
    return states[0] if states else "absent"


def test_download_whole_repo_into_standard_cache(hf_hub, hf_ctx, hub_server) -> None:
    seen = []
    result = hf_hub.download(TINY, on_transfer=seen.append)
    repo = hub_server.hub.repos[TINY]
    assert result.commit == repo.sha and result.complete
    assert sorted(result.files) == sorted(repo.files)
    assert result.total_bytes == sum(len(d) for d in repo.files.values())
    for path, data in repo.files.items():
        assert (Path(result.path) / path).read_bytes() == data
    assert seen and seen[-1].done == seen[-1].total == result.total_bytes
    assert seen[-1].files_done == len(repo.files)
    assert state_of(hf_hub, TINY) == "complete"
    # The official client finds it without the network: same cache layout.
    assert snapshot_download(TINY, cache_dir=hf_ctx.cache_dir, local_files_only=True) == result.path
    assert hf_hub_download(
        TINY, "onnx/model.onnx", cache_dir=hf_ctx.cache_dir, local_files_only=True
    ) == str(Path(result.path) / "onnx/model.onnx")


def test_include_patterns_fetch_only_those_files(hf_hub, hf_ctx, hub_server) -> None:
    result = hf_hub.download(TINY, include=["onnx/*"])
    assert sorted(result.files) == ["onnx/model.onnx", "onnx/model_fp16.onnx"]
    assert not (Path(result.path) / "model.safetensors").exists()
    assert hub_server.hub.count("GET", "resolve/.*/model.safetensors") == 0
    assert state_of(hf_hub, TINY) == "selected-files"
    # Offline, the chosen files are there; the others are reported missing.
    assert hf_cache.cached_snapshot(hf_ctx.cache_dir, TINY, "main", ["onnx/*"]) == Path(result.path)
    with pytest.raises(BadInput, match="only partly downloaded"):
        hf_cache.cached_snapshot(hf_ctx.cache_dir, TINY, "main", None)


def test_pattern_matching_nothing_names_the_files(hf_hub) -> None:
    with pytest.raises(BadInput, match=r"No file in acme/tiny-mlp matches \*\.gguf.*config.json"):
        hf_hub.download(TINY, include=["*.gguf"])


def test_reuses_files_other_tools_already_fetched(hf_hub, hf_ctx, hub_server) -> None:
    hf_hub_download(
        TINY,
        "onnx/model.onnx",
        cache_dir=hf_ctx.cache_dir,
        endpoint=hub_server.endpoint,
        token=False,
    )
    before = hub_server.hub.count("GET", "resolve/.*/onnx/model.onnx")
    result = hf_hub.download(TINY, include=["onnx/model.onnx"])
    assert hub_server.hub.count("GET", "resolve/.*/onnx/model.onnx") == before
    assert result.downloaded_bytes == 0 and result.reused_bytes == result.total_bytes


def test_connection_drop_mid_file_resumes_with_range(hf_hub, hub_server) -> None:
    hub_server.hub.fault("GET", "resolve/.*/model.onnx", drop_after=2 * 1024 * 1024)
    result = hf_hub.download("acme/big")
    data = hub_server.hub.repos["acme/big"].files["model.onnx"]
    assert (Path(result.path) / "model.onnx").read_bytes() == data
    ranges = [
        h.get("Range") for m, p, h in hub_server.hub.requests if m == "GET" and "resolve" in p
    ]
    assert ranges[0] is None and ranges[1] and ranges[1].startswith("bytes=")


def test_server_errors_on_a_file_are_retried(hf_hub, hub_server) -> None:
    hub_server.hub.fault("GET", "resolve/.*/config.json", status=503, times=2)
    result = hf_hub.download("acme/text-1")
    assert (Path(result.path) / "config.json").read_bytes() == b"{}"


def test_persistent_server_error_on_a_file_fails_clearly(hf_hub, hub_server) -> None:
    hub_server.hub.fault("GET", "resolve/.*/config.json", status=500, times=99)
    with pytest.raises(HubError, match=r"HTTP 500\) after 4 tries"):
        hf_hub.download("acme/text-1")
    assert state_of(hf_hub, "acme/text-1") != "complete"


def cancel_after(event: threading.Event, nbytes: int):
    def on_transfer(transfer) -> None:
        if transfer.done >= nbytes:
            event.set()

    return on_transfer


def test_cancel_stops_and_a_later_run_resumes(hf_ctx, hub_server) -> None:
    hub_server.hub.bytes_per_second = 8 * 1024 * 1024
    cancel = threading.Event()
    with pytest.raises(JobCancelled):
        HuggingFaceHub(hf_ctx).download(
            "acme/big", cancel=cancel, on_transfer=cancel_after(cancel, 1024 * 1024)
        )
    storage = hf_cache.repo_folder(hf_ctx.cache_dir, "acme/big")
    partials = list((storage / "blobs").glob("*.incomplete"))
    assert len(partials) == 1 and partials[0].stat().st_size >= 1024 * 1024
    assert not (snapshot_of(hf_ctx, "acme/big") / "model.onnx").exists()
    assert state_of(HuggingFaceHub(hf_ctx), "acme/big") == "incomplete"
    with pytest.raises(BadInput, match="not downloaded on this computer"):
        hf_cache.cached_snapshot(hf_ctx.cache_dir, "acme/big", "main", None)

    # "After an app restart": a new hub object, the partial file still on disk.
    hub_server.hub.bytes_per_second = None
    kept = partials[0].stat().st_size
    result = HuggingFaceHub(hf_ctx).download("acme/big")
    assert result.reused_bytes == kept and result.downloaded_bytes == result.total_bytes - kept
    last_get = [h for m, p, h in hub_server.hub.requests if m == "GET" and "resolve" in p][-1]
    assert last_get.get("Range") == f"bytes={kept}-"
    data = hub_server.hub.repos["acme/big"].files["model.onnx"]
    assert (Path(result.path) / "model.onnx").read_bytes() == data
    assert not list((storage / "blobs").glob("*.incomplete"))


def test_gated_without_token_says_how_to_get_access(hf_hub) -> None:
    with pytest.raises(
        BadInput, match=r"gated: you must accept its terms and sign in.*Request access"
    ):
        hf_hub.download("bigco/gated-llm")


def test_gated_with_token_but_no_access(hf_ctx) -> None:
    hf_ctx.token = "hf_good"
    with pytest.raises(BadInput, match="has not been given access yet"):
        HuggingFaceHub(hf_ctx).download("bigco/gated-llm")


def test_gated_with_access_downloads(hf_ctx) -> None:
    hf_ctx.token = "hf_approved"
    assert HuggingFaceHub(hf_ctx).download("bigco/gated-llm").complete


def test_wrong_token_says_so(hf_ctx) -> None:
    hf_ctx.token = "hf_wrong"
    with pytest.raises(BadInput, match="rejected your token"):
        HuggingFaceHub(hf_ctx).download(TINY)


def test_unknown_repo_and_revision(hf_hub) -> None:
    with pytest.raises(BadInput, match="No model named 'acme/ghost'"):
        hf_hub.download("acme/ghost")
    with pytest.raises(BadInput, match="revision does not exist"):
        hf_hub.download(TINY, revision="no-such-branch")


def test_listing_that_fails_midway_is_never_a_complete_model(hf_hub, hf_ctx, hub_server) -> None:
    hub_server.hub.tree_page_size = 2
    hub_server.hub.fault("GET", "/tree/", status=500, after=1, times=99)
    with pytest.raises(HubError, match="failing"):
        hf_hub.download(TINY)
    assert state_of(hf_hub, TINY) == "absent"
    with pytest.raises(BadInput, match="not downloaded"):
        hf_cache.cached_snapshot(hf_ctx.cache_dir, TINY, "main", None)


def test_listing_over_several_pages_is_complete(hf_hub, hub_server) -> None:
    hub_server.hub.tree_page_size = 2
    result = hf_hub.download(TINY)
    assert len(result.files) == len(hub_server.hub.repos[TINY].files)
    assert hub_server.hub.count("GET", "/tree/") == 3  # 6 entries, 2 per page


def test_partial_folder_from_snapshot_download_is_flagged(hf_hub, hf_ctx, hub_server) -> None:
    """huggingface_hub returns a partial folder silently when the listing fails; we flag it."""
    hf_hub_download(
        TINY, "config.json", cache_dir=hf_ctx.cache_dir, endpoint=hub_server.endpoint, token=False
    )
    hub_server.hub.fault("GET", "/tree/", status=400, times=99)
    folder = Path(
        snapshot_download(
            TINY, cache_dir=hf_ctx.cache_dir, endpoint=hub_server.endpoint, token=False
        )
    )
    assert [p.name for p in folder.iterdir()] == ["config.json"]  # the pitfall itself
    assert state_of(hf_hub, TINY) == "unverified"
    with pytest.raises(HubError):
        hf_hub.download(TINY)  # ours refuses instead of returning that folder


def test_disk_full_is_clear_and_cleans_the_partial_file(hf_hub, hf_ctx, hub_server) -> None:
    etag = hub_server.hub.repos["acme/big"].etag("model.onnx")
    blobs = hf_cache.repo_folder(hf_ctx.cache_dir, "acme/big") / "blobs"
    blobs.mkdir(parents=True)
    # Writes to /dev/full fail with ENOSPC: the real "disk full" error, on one file only.
    (blobs / f"{etag}.incomplete").symlink_to("/dev/full")
    with pytest.raises(OutputError, match="disk is full"):
        hf_hub.download("acme/big")
    assert not list(blobs.glob("*.incomplete"))
    assert state_of(hf_hub, "acme/big") != "complete"


def test_offline_uses_the_cache_and_never_the_network(hf_hub, hf_ctx, hub_server) -> None:
    online = hf_hub.download(TINY, include=["onnx/model.onnx"])
    requests = len(hub_server.hub.requests)
    hf_ctx.offline = True
    offline_hub = HuggingFaceHub(hf_ctx)
    assert offline_hub.download(TINY, include=["onnx/model.onnx"]).path == online.path
    assert [m.id for m in offline_hub.cached()] == [TINY]
    hits = (
        offline_hub.search(
            __import__("studio.core.hubs", fromlist=["SearchQuery"]).SearchQuery(text="tiny")
        )
        .next_page()
        .hits
    )
    assert [h.id for h in hits] == [TINY] and hits[0].cached
    assert offline_hub.info(TINY).local_path == online.path
    with pytest.raises(BadInput, match="not downloaded on this computer"):
        offline_hub.download("acme/text-1")
    assert len(hub_server.hub.requests) == requests


def _gets(hub_server, pattern: str) -> int:
    return hub_server.hub.count("GET", pattern)


@pytest.mark.parametrize(
    ("repo", "path"),
    [("acme/big", "model.onnx"), ("acme/text-1", "config.json")],
    ids=["lfs-sha256", "git-blob-sha1"],
)
def test_damaged_bytes_are_fetched_again(hf_hub, hub_server, repo: str, path: str) -> None:
    hub_server.hub.fault("GET", f"resolve/.*/{path}$", corrupt=True)
    result = hf_hub.download(repo)
    data = hub_server.hub.repos[repo].files[path]
    assert (Path(result.path) / path).read_bytes() == data
    assert _gets(hub_server, f"resolve/.*/{path}$") == 2
    assert result.downloaded_bytes == result.total_bytes


def test_always_damaged_fails_and_keeps_nothing_of_it(hf_hub, hf_ctx, hub_server) -> None:
    earlier = hf_hub.download("acme/text-1", include=["config.json"])
    hub_server.hub.fault("GET", "resolve/.*/model.onnx$", corrupt=True, times=99)
    with pytest.raises(DownloadCorrupted, match=r"model.onnx arrived damaged 2 times") as info:
        hf_hub.download("acme/text-1")
    assert "\n" not in str(info.value) and "SHA-256" in str(info.value)
    storage = hf_cache.repo_folder(hf_ctx.cache_dir, "acme/text-1")
    etag = hub_server.hub.repos["acme/text-1"].etag("model.onnx")
    assert sorted(p.name for p in (storage / "blobs").iterdir()) == [
        hub_server.hub.repos["acme/text-1"].etag("config.json")
    ]
    assert not (storage / "blobs" / etag).exists()
    assert not (Path(earlier.path) / "model.onnx").exists()
    assert (Path(earlier.path) / "config.json").read_bytes() == b"{}"
    assert state_of(hf_hub, "acme/text-1") != "complete"


def test_damaged_bytes_left_on_disk_are_not_resumed_into_a_blob(hf_hub, hf_ctx, hub_server) -> None:
    data = hub_server.hub.repos["acme/big"].files["model.onnx"]
    etag = hub_server.hub.repos["acme/big"].etag("model.onnx")
    blobs = hf_cache.repo_folder(hf_ctx.cache_dir, "acme/big") / "blobs"
    blobs.mkdir(parents=True)
    # An earlier run left the right number of bytes, but not the right ones.
    (blobs / f"{etag}.incomplete").write_bytes(bytes(b ^ 1 for b in data[: 1024 * 1024]))
    result = hf_hub.download("acme/big")
    assert (Path(result.path) / "model.onnx").read_bytes() == data
    ranges = [
        h.get("Range") for m, p, h in hub_server.hub.requests if m == "GET" and "resolve" in p
    ]
    assert ranges == [f"bytes={1024 * 1024}-", None]


def test_good_bytes_left_on_disk_are_resumed_and_pass(hf_hub, hf_ctx, hub_server) -> None:
    data = hub_server.hub.repos["acme/big"].files["model.onnx"]
    etag = hub_server.hub.repos["acme/big"].etag("model.onnx")
    blobs = hf_cache.repo_folder(hf_ctx.cache_dir, "acme/big") / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{etag}.incomplete").write_bytes(data[: 1024 * 1024])
    result = hf_hub.download("acme/big")
    assert (Path(result.path) / "model.onnx").read_bytes() == data
    assert result.reused_bytes == 1024 * 1024
    assert _gets(hub_server, "resolve/.*/model.onnx$") == 1


def test_a_server_that_ignores_range_still_gives_a_checked_file(hf_hub, hf_ctx, hub_server) -> None:
    data = hub_server.hub.repos["acme/big"].files["model.onnx"]
    etag = hub_server.hub.repos["acme/big"].etag("model.onnx")
    blobs = hf_cache.repo_folder(hf_ctx.cache_dir, "acme/big") / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{etag}.incomplete").write_bytes(data[: 1024 * 1024])
    hub_server.hub.fault("GET", "resolve/.*/model.onnx$", ignore_range=True)
    result = hf_hub.download("acme/big")
    assert (Path(result.path) / "model.onnx").read_bytes() == data
    assert (
        _gets(hub_server, "resolve/.*/model.onnx$") == 1
    )  # truncated and rewritten, not refetched

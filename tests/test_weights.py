"""Finding, downloading and checking weights, for real, over HTTP on 127.0.0.1.

The checkpoint is a random-weight DINOv2 small in Meta's format (175 tensors, 88 MB), so
every code path runs as it would with the real file. Nothing here leaves this machine.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from albumfinder import paths
from albumfinder.models import get_spec
from albumfinder.models.checking import load_state_dict
from albumfinder.models.weights import (
    DownloadCancelled,
    WeightsError,
    download_url,
    download_weights,
    find_weights,
    weights_available,
)

from helpers_models import random_dinov2_state, save_dinov2_checkpoint
from local_server import serve

SMALL = get_spec("dinov2-small")
FILENAME = SMALL.weights_filename


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_dinov2_checkpoint(tmp_path_factory.mktemp("ckpt") / FILENAME)


@pytest.fixture(scope="module")
def served(checkpoint) -> Iterator[tuple[str, dict[str, bytes]]]:
    files = {FILENAME: checkpoint.read_bytes(), "random.pth": random.Random(0).randbytes(200_000)}
    with serve(files) as (address, live_files):
        yield address, live_files


@pytest.fixture(scope="module")
def server(served) -> str:
    return served[0]


def _leftovers() -> list[str]:
    return sorted(p.name for p in paths.weights_dir().iterdir())


# ------------------------------------------------------------------------ download


def test_download_lands_in_place_with_progress(server, checkpoint):
    calls: list[tuple[int, int]] = []
    assert find_weights(SMALL) is None
    stale = paths.weights_dir() / f".{FILENAME}.killed.part"  # from a download killed earlier
    stale.write_bytes(b"partial")
    os.utime(stale, (1e9, 1e9))
    path = download_weights(
        SMALL, url=f"{server}/{FILENAME}", progress=lambda d, t: calls.append((d, t))
    )
    size = checkpoint.stat().st_size
    assert path == paths.weights_dir() / FILENAME
    assert path.read_bytes() == checkpoint.read_bytes()
    assert _leftovers() == [FILENAME]
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (size, size)
    assert {t for _, t in calls} == {size}
    assert find_weights(SMALL) == path and weights_available(SMALL)
    state = load_state_dict(SMALL, path)
    assert len(state) == 175


def test_dropped_connection_leaves_no_file(server):
    with pytest.raises(WeightsError, match="broke off"):
        download_weights(SMALL, url=f"{server}/drop/{FILENAME}")
    assert _leftovers() == []
    assert find_weights(SMALL) is None


def test_cancelled_download_leaves_no_file(server):
    seen: list[int] = []
    with pytest.raises(DownloadCancelled):
        download_weights(
            SMALL,
            url=f"{server}/{FILENAME}",
            progress=lambda d, t: seen.append(d),
            should_stop=lambda: len(seen) > 2,
        )
    assert _leftovers() == []


def test_wrong_content_is_not_put_in_place(server):
    with pytest.raises(WeightsError, match="PyTorch weights file"):
        download_weights(SMALL, url=f"{server}/random.pth")
    assert _leftovers() == []


def test_http_error_and_unreachable_host(server):
    with pytest.raises(WeightsError, match="404"):
        download_weights(SMALL, url=f"{server}/missing.pth")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WeightsError, match="could not reach 127.0.0.1"):
        download_weights(SMALL, url=f"http://127.0.0.1:{port}/{FILENAME}")
    assert _leftovers() == []


# ------------------------------------------------------------------------ finding


def test_torch_hub_cache_is_reused(checkpoint, tmp_path):
    hub = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    shutil.copy(checkpoint, hub / FILENAME)
    assert find_weights(SMALL) == hub / FILENAME
    # Our own folder comes first when both hold it.
    ours = paths.weights_dir() / FILENAME
    shutil.copy(checkpoint, ours)
    assert find_weights(SMALL) == ours


def test_model_path_as_file_folder_or_hub_repo(checkpoint, tmp_path):
    assert find_weights(SMALL, checkpoint) == checkpoint  # a .pth file
    assert find_weights(SMALL, checkpoint.parent) == checkpoint  # a folder holding it
    # dinov2_retrieval's -p: the torch-hub repo folder; the file is in ../checkpoints.
    hub = tmp_path / "cache" / "torch" / "hub"
    repo = hub / "facebookresearch_dinov2_main"
    repo.mkdir(parents=True)
    (hub / "checkpoints").mkdir()
    shutil.copy(checkpoint, hub / "checkpoints" / FILENAME)
    assert find_weights(SMALL, repo) == hub / "checkpoints" / FILENAME
    assert find_weights(SMALL, tmp_path / "nowhere") is None
    assert find_weights(get_spec("dinov2-base"), checkpoint.parent) is None
    # The built-in model ships in its package; a -p meant for DINOv2 does not replace it.
    builtin = find_weights(get_spec("builtin"), checkpoint)
    assert builtin is not None and builtin.name == "efficientnet-lite0-57934424.pth"


# ------------------------------------------------------------------------ refusing


def _refused(path: Path, match: str) -> None:
    with pytest.raises(WeightsError, match=match):
        load_state_dict(SMALL, path)


def test_wrong_keys_and_shapes_are_refused(tmp_path):
    state = random_dinov2_state()
    renamed = dict(state)
    renamed["blocks.0.attn.qkv.weightX"] = renamed.pop("blocks.0.attn.qkv.weight")
    torch.save(renamed, tmp_path / "renamed.pth")
    _refused(tmp_path / "renamed.pth", "1 tensors missing .*blocks.0.attn.qkv.weight")
    misshapen = dict(state, pos_embed=torch.zeros(1, 257, 384))
    torch.save(misshapen, tmp_path / "shape.pth")
    _refused(tmp_path / "shape.pth", r"pos_embed \(1, 257, 384\) instead of \(1, 1370, 384\)")
    extra = dict(state, register_tokens=torch.zeros(1, 4, 384))
    torch.save(extra, tmp_path / "reg.pth")
    _refused(tmp_path / "reg.pth", "unexpected tensors .*register_tokens.*dinov2-small-reg")
    torch.save({"weights": [1, 2, 3]}, tmp_path / "list.pth")
    _refused(tmp_path / "list.pth", "175 tensors missing")
    nan = dict(state)
    nan["norm.weight"] = torch.full((384,), float("nan"))
    torch.save(nan, tmp_path / "nan.pth")
    _refused(tmp_path / "nan.pth", "NaN")


def test_damaged_and_foreign_files_are_refused(tmp_path, checkpoint):
    for seed in range(20):  # random bytes upset the unpickler in many different ways
        (tmp_path / "random.pth").write_bytes(random.Random(seed).randbytes(5000 * seed))
        _refused(tmp_path / "random.pth", "PyTorch weights file")
    (tmp_path / "zip.pth").write_bytes(b"PK\x03\x04" + random.Random(1).randbytes(9000))
    _refused(tmp_path / "zip.pth", "PyTorch weights file")
    (tmp_path / "empty.pth").write_bytes(b"")
    _refused(tmp_path / "empty.pth", "not a readable PyTorch weights file")
    (tmp_path / "half.pth").write_bytes(checkpoint.read_bytes()[:1_000_000])
    _refused(tmp_path / "half.pth", "not a readable PyTorch weights file")
    _refused(tmp_path / "missing.pth", "not found")


class _RunsCode:
    """Unpickling this would create a file: the test checks that it never does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_that_runs_code_is_refused_without_running(tmp_path):
    marker = tmp_path / "code-ran"
    torch.save({"pos_embed": _RunsCode(marker)}, tmp_path / "evil.pth")
    _refused(tmp_path / "evil.pth", "refused: it would run code")
    with open(tmp_path / "evil.pkl", "wb") as handle:  # a plain pickle, no zip around it
        pickle.dump({"pos_embed": _RunsCode(marker)}, handle, protocol=2)
    _refused(tmp_path / "evil.pkl", "refused: it would run code")
    assert not marker.exists()


def test_wrapped_checkpoints_are_unwrapped(tmp_path):
    state = random_dinov2_state()
    torch.save({"model": state, "epoch": 3}, tmp_path / "wrapped.pth")
    assert len(load_state_dict(SMALL, tmp_path / "wrapped.pth")) == 175
    teacher = {f"backbone.{k}": v for k, v in state.items()}
    teacher["dino_head.mlp.0.weight"] = torch.zeros(2, 2)
    torch.save({"teacher": teacher}, tmp_path / "teacher.pth")
    assert len(load_state_dict(SMALL, tmp_path / "teacher.pth")) == 175
    half = {k: v.half() for k, v in state.items()}
    torch.save(half, tmp_path / "half.pth")
    loaded = load_state_dict(SMALL, tmp_path / "half.pth")
    assert loaded["pos_embed"].dtype == torch.float32


# ------------------------------------------------------------------------ hash record


def test_recorded_hash_detects_a_later_change(tmp_path, checkpoint):
    path = tmp_path / FILENAME
    shutil.copy(checkpoint, path)
    load_state_dict(SMALL, path)
    info = path.stat()
    # Flip bytes well inside the tensor data, keep size and modification time: only the
    # content changed, as with disk corruption.
    with open(path, "r+b") as handle:
        handle.seek(info.st_size // 2)
        chunk = handle.read(64)
        handle.seek(info.st_size // 2)
        handle.write(bytes(b ^ 0x55 for b in chunk))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    _refused(path, "weights file changed since it was verified")
    # A file written anew (new mtime) with good weights is checked afresh and accepted.
    shutil.copy(checkpoint, path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    assert len(load_state_dict(SMALL, path)) == 175


def test_builtin_file_is_checked_against_the_hash_in_its_name(tmp_path):
    spec = get_spec("builtin")
    original = find_weights(spec)
    assert len(load_state_dict(spec, original)) == 296
    copy = tmp_path / original.name
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="damaged"):
        load_state_dict(spec, copy)


def test_a_mirror_serves_the_same_files(served, checkpoint, monkeypatch):
    server, files = served
    monkeypatch.setenv("ALBUMFINDER_WEIGHTS_MIRROR", server + "/mirror/")
    assert download_url(SMALL) == f"{server}/mirror/dinov2_vits14/{FILENAME}"
    files[f"mirror/dinov2_vits14/{FILENAME}"] = checkpoint.read_bytes()
    path = download_weights(SMALL)  # no url: the registry's, through the mirror
    assert path.read_bytes() == checkpoint.read_bytes()
    monkeypatch.delenv("ALBUMFINDER_WEIGHTS_MIRROR")
    assert download_url(SMALL) == SMALL.weights_url


def test_the_reason_for_people_is_what_the_raiser_says_not_a_guess_from_the_message(tmp_path):
    """A damaged file in a folder whose name says "not found" is still a damaged file."""
    from albumfinder.errors import WEIGHTS_NOT_FOUND, WEIGHTS_UNUSABLE, WeightsError

    spec = get_spec("dinov2-small")
    folder = tmp_path / "backup not found"
    folder.mkdir()
    damaged = folder / spec.weights_filename
    damaged.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError) as info:
        load_state_dict(spec, damaged)
    assert info.value.reason == WEIGHTS_UNUSABLE
    with pytest.raises(WeightsError) as info:
        load_state_dict(spec, tmp_path / "cancelled" / spec.weights_filename)
    assert info.value.reason == WEIGHTS_NOT_FOUND

"""What the faces need about models, through the door (`Library`): the rows they list, the
default model and why, a model loaded once per process on first use, a download, and photos
embedded by path."""

from __future__ import annotations

import numpy as np
import pytest

from albumfinder import paths
from albumfinder.errors import ImageLoadError
from albumfinder.library import Library
from albumfinder.models.registry import LISTED_MODELS, MODELS, get_spec

from helpers_models import save_dinov2_checkpoint
from local_server import serve
from photo_factory import make_album

SMALL = get_spec("dinov2-small")


@pytest.fixture
def library():
    lib = Library()
    yield lib
    lib.close()


def test_model_rows_list_the_offered_models_first_with_what_a_face_shows(library):
    rows = library.models()
    assert [r.name for r in rows[: len(LISTED_MODELS)]] == list(LISTED_MODELS)
    assert sorted(r.name for r in rows) == sorted(MODELS)
    by_name = {r.name: r for r in rows}
    builtin, small = by_name["builtin"], by_name["dinov2-small"]
    assert (builtin.weights_present, builtin.download_bytes, builtin.listed) == (True, None, True)
    assert (small.weights_present, small.download_bytes, small.dim) == (False, 88_000_000, 384)
    assert small.download_url == SMALL.weights_url and small.weights_path is None
    assert not by_name["dinov2-small-reg"].listed
    save_dinov2_checkpoint(paths.weights_dir() / SMALL.weights_filename)
    small = next(r for r in library.models() if r.name == "dinov2-small")
    assert small.weights_present and small.weights_path.endswith(SMALL.weights_filename)


def test_the_default_model_falls_back_to_the_builtin_one_and_says_why(library, tmp_path):
    name, reason = library.default_model()
    assert name == "builtin" and "DINOv2 weights not found" in reason
    checkpoint = save_dinov2_checkpoint(tmp_path / SMALL.weights_filename)
    assert library.default_model(checkpoint) == ("dinov2-small", None)


def test_the_embedder_is_loaded_on_first_use_once_per_process(library):
    said: list[str] = []
    lazy = library.embedder(None, log=said.append)  # no DINOv2 weights here: the built-in
    assert lazy.spec.name == "builtin" and said and not lazy.loaded
    loaded = lazy.get()
    assert lazy.loaded and loaded.spec.name == "builtin"
    other = Library()
    try:  # another Library (the GUI's, the CLI's) gets the model already in memory
        assert other.embedder("builtin").get() is loaded
    finally:
        other.close()


def test_download_model_puts_checked_weights_in_place(library, tmp_path, monkeypatch):
    checkpoint = save_dinov2_checkpoint(tmp_path / SMALL.weights_filename)
    files = {f"mirror/dinov2_vits14/{SMALL.weights_filename}": checkpoint.read_bytes()}
    with serve(files) as (address, _files):
        monkeypatch.setenv("ALBUMFINDER_WEIGHTS_MIRROR", f"{address}/mirror")
        seen: list[tuple[int, int]] = []
        path = library.download_model("dinov2-small", progress=lambda d, t: seen.append((d, t)))
    assert path == paths.weights_dir() / SMALL.weights_filename
    assert path.read_bytes() == checkpoint.read_bytes()
    assert seen[-1][0] == len(checkpoint.read_bytes())
    assert next(r for r in library.models() if r.name == "dinov2-small").weights_present


def test_embed_reuses_stored_vectors_and_embeds_the_others(library, tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    photos = [str(p) for p in make_album(album, 3)]
    library.add_folder(album)
    library.index(library.embedder("builtin"))
    stored = library.vectors(get_spec("builtin").key)
    lazy = library.embedder("builtin")
    assert library.embed(lazy, []).shape == (0, 1280)
    vectors = library.embed(lazy, photos)
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32
    assert not lazy.loaded  # every photo was indexed: no model needed
    for photo, vector in zip(photos, vectors, strict=True):
        row = stored.paths.index(photo)
        expected = stored.matrix[row].astype(np.float32)
        assert np.allclose(vector, expected / np.linalg.norm(expected), atol=1e-3)
    outside = make_album(tmp_path / "elsewhere", 1, first_seed=7)[0]
    fresh = library.embed(lazy, [outside])  # not indexed: the model embeds it
    assert fresh.shape == (1, 1280) and abs(float(np.linalg.norm(fresh[0])) - 1) < 1e-5
    with pytest.raises(ImageLoadError):
        library.embed(lazy, [tmp_path / "missing.jpg"])

"""The built-in model's pooling (issue 13, point 6): regional GeM over the last feature map
(R-MAC's regions, each GeM-pooled), a new model key for it, and the index re-embedding an
album that holds the old key's vectors."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageEnhance

from albumfinder.embedding.embedder import Embedder
from albumfinder.embedding.loading import load_embedder
from albumfinder.library import Library
from albumfinder.models import build_model, efficientnet_lite, get_spec
from albumfinder.models.checking import load_state_dict
from albumfinder.models.weights import find_weights
from albumfinder.report import IndexProgress, Phase

from photo_factory import make_album, make_photo


@pytest.fixture(scope="module")
def builtin() -> Embedder:
    return load_embedder("builtin", device="cpu", precision="fp32", allow_download=False)


def _version(version: int) -> Embedder:
    """The built-in model as preprocessing ``version`` of its spec builds it."""
    spec = dataclasses.replace(get_spec("builtin"), preprocess_version=version)
    path = find_weights(spec)
    assert path is not None
    return Embedder(spec, build_model(spec, load_state_dict(spec, path)), precision="fp32")


@pytest.fixture(scope="module")
def old_builtin() -> Embedder:
    """Today's pipeline before the change: average pooling, key builtin/p1."""
    return _version(1)


def _feature_maps(embedder: Embedder, images: list[Image.Image]) -> torch.Tensor:
    arrays = np.stack([embedder.prepare(image) for image in images])
    x = torch.from_numpy(arrays).permute(0, 3, 1, 2).float()
    x = (x - embedder._mean) / embedder._std
    with torch.inference_mode():
        return embedder._model.features(x)


# ----------------------------------------------------------------------- the new pooling


def test_builtin_vectors_are_regional_gem_unit_length_and_deterministic(builtin):
    images = [make_photo(seed) for seed in range(4)]
    vectors = builtin.embed_images(images)
    assert builtin.model_key == "builtin/p2"
    assert vectors.shape == (4, 1280) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, builtin.embed_images(images))
    alone = np.concatenate([builtin.embed_images([image]) for image in images])
    assert np.allclose(vectors, alone, atol=1e-5)  # the batch does not change a photo's vector
    maps = _feature_maps(builtin, images)
    regional = F.normalize(efficientnet_lite.regional_gem_pool(maps), dim=1).numpy()
    average = F.normalize(maps.mean(dim=(2, 3)), dim=1).numpy()
    assert np.allclose(vectors, regional, atol=1e-5)
    assert not np.allclose(vectors, average, atol=1e-3)


def test_gem_lies_between_the_average_and_the_maximum():
    maps = torch.rand(2, 8, 5, 5, generator=torch.Generator().manual_seed(3)) * 6
    gem = efficientnet_lite.gem_pool(maps)
    assert torch.all(gem >= maps.mean(dim=(2, 3)) - 1e-6)
    assert torch.all(gem <= maps.amax(dim=(2, 3)) + 1e-6)
    assert torch.allclose(efficientnet_lite.gem_pool(maps, p=1.0), maps.mean(dim=(2, 3)))
    flat = torch.full((1, 3, 4, 4), 2.5)
    assert torch.allclose(efficientnet_lite.gem_pool(flat), torch.full((1, 3), 2.5))
    zeros = efficientnet_lite.gem_pool(torch.zeros(1, 3, 4, 4))  # ReLU6 maps can be all 0
    assert torch.all(torch.isfinite(zeros))


def test_pooling_follows_the_preprocessing_version(old_builtin, builtin):
    """Version 1 is still the old pipeline (average pooling), so its vectors stay what they
    were; the spec's newest version is the default network."""
    assert old_builtin.model_key == "builtin/p1"
    assert old_builtin._model.pooling is efficientnet_lite.average_pool
    assert builtin._model.pooling is efficientnet_lite.regional_gem_pool
    assert efficientnet_lite.empty_model().pooling is efficientnet_lite.regional_gem_pool
    images = [make_photo(seed) for seed in range(3)]
    maps = _feature_maps(old_builtin, images)
    average = F.normalize(maps.mean(dim=(2, 3)), dim=1).numpy()
    assert np.allclose(old_builtin.embed_images(images), average, atol=1e-5)


# ----------------------------------------------------------------- instance retrieval gain


def _another_shot(photo: Image.Image, seed: int) -> Image.Image:
    """The same scene from a little to one side, nearer, in other light: a perspective view
    of about 65 % of the photo's width and height, brighter or darker, stored as a JPEG."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    left, top = rng.uniform(0, 0.35) * w, rng.uniform(0, 0.35) * h
    right, bottom = left + 0.65 * w, top + 0.65 * h
    jitter = rng.uniform(-0.06, 0.06, size=8) * np.array([w, h] * 4)
    quad = np.array([left, top, left, bottom, right, bottom, right, top]) + jitter
    view = photo.transform((w, h), Image.Transform.QUAD, tuple(quad), Image.Resampling.BICUBIC)
    view = ImageEnhance.Brightness(view).enhance(rng.choice([0.75, 1.25]))
    buffer = io.BytesIO()
    view.save(buffer, "JPEG", quality=70)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _distractors_above(vectors: np.ndarray, queries: int, distractors: int) -> list[int]:
    """Rows: queries, then each query's other shot, then distractors. For each query, how
    many distractors score at least as high as its other shot."""
    q = vectors[:queries]
    shots = vectors[queries : 2 * queries]
    others = vectors[2 * queries : 2 * queries + distractors]
    own = np.sum(q * shots, axis=1)
    return [int(n) for n in np.sum(q @ others.T >= own[:, None], axis=1)]


def test_another_shot_of_a_photo_ranks_higher_with_the_new_pooling(builtin, old_builtin):
    """Instance retrieval in principle: another shot of a photo (another viewpoint, nearer,
    other light) is outranked by fewer unrelated photos (and other shots of them) with the
    new pooling than with the old (average pooling), and is the top hit more often. The gain
    on these synthetic photos is small (18 against 22 outranking distractors, 5 against 3
    top hits when written); benchmarks/bench_instance_retrieval.py measures it on real ones."""
    photos = [make_photo(seed, (800, 600)) for seed in range(10)]
    unrelated = [make_photo(seed, (800, 600)) for seed in range(300, 324)]
    unrelated += [_another_shot(p, 900 + i) for i, p in enumerate(unrelated[:12])]
    images = photos + [_another_shot(p, i) for i, p in enumerate(photos)] + unrelated
    new = _distractors_above(builtin.embed_images(images), len(photos), len(unrelated))
    old = _distractors_above(old_builtin.embed_images(images), len(photos), len(unrelated))
    print("distractors above the other shot: new", new, "old", old)
    assert sum(new) < sum(old)
    assert new.count(0) > old.count(0)


# ---------------------------------------------------------------- the model key changes


def _stop_after(photos: int):
    """should_stop for an index run: True once ``photos`` photos are embedded."""
    seen = {"done": 0}

    def progress(event: IndexProgress) -> None:
        if event.phase is Phase.EMBEDDING:
            seen["done"] = event.done

    return progress, lambda: seen["done"] >= photos


ALBUM = 60


def test_an_album_indexed_with_the_old_pooling_is_re_embedded(tmp_path, old_builtin, builtin):
    """The old key's vectors stay (nothing is lost), the next index run embeds every photo
    again for the new key, and a search during that run answers from the photos done so
    far (each batch is committed), then from all of them."""
    album = tmp_path / "album"
    photos = make_album(album, ALBUM)  # long enough for progress to tell (every 0.2 s)
    library = Library()
    library.add_folder(album)
    first = library.index(old_builtin)
    assert first.added == ALBUM
    assert library.store.model_keys() == {"builtin/p1": ALBUM}
    assert library.album_photo_count(builtin.model_key) == 0  # the CLI says: index first

    progress, stop = _stop_after(4)
    partial = library.index(builtin, progress=progress, should_stop=stop)
    assert partial.cancelled
    done = library.album_photo_count(builtin.model_key)
    assert 4 <= done < ALBUM
    re_embedded = set(library.store.load_vectors(builtin.model_key)[0])
    hits = library.search(builtin, photos[0], n=ALBUM * 2)
    assert {h.path for h in hits} == re_embedded - {str(photos[0])}

    rest = library.index(builtin)
    assert not rest.cancelled and rest.added + rest.updated == ALBUM - done
    assert library.store.model_keys() == {"builtin/p1": ALBUM, "builtin/p2": ALBUM}
    hits = library.search(builtin, photos[0], n=ALBUM * 2)
    assert {h.path for h in hits} == {str(p) for p in photos[1:]}
    assert library.index(builtin).unchanged == ALBUM  # and then nothing more to do
    library.close()

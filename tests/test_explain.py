"""Issue 13, "why it matches": the match maps over both photos, upright, in [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from albumfinder.library import Library
from albumfinder.report import Crop, QueryPart

from helpers_models import save_dinov2_checkpoint
from photo_factory import exif_bytes, make_photo


def planted(background: int, at: tuple[int, int]):
    """An unrelated photo with the same picture (seed 7, 320 x 240) planted at ``at``."""
    image = make_photo(background)
    image.paste(make_photo(7).resize((320, 240)), at)
    return image


def quarter_means(grid: list[list[float]]) -> dict[str, float]:
    m = np.asarray(grid)
    r, c = m.shape[0] // 2, m.shape[1] // 2
    return {
        "top left": m[:r, :c].mean(),
        "top right": m[:r, c:].mean(),
        "bottom left": m[r:, :c].mean(),
        "bottom right": m[r:, c:].mean(),
    }


def best_quarter(grid: list[list[float]]) -> str:
    means = quarter_means(grid)
    return max(means, key=means.__getitem__)


def argmax_quarter(grid: list[list[float]]) -> str:
    m = np.asarray(grid)
    row, col = np.unravel_index(int(m.argmax()), m.shape)
    vertical = "top" if row < m.shape[0] // 2 else "bottom"
    return f"{vertical} {'left' if col < m.shape[1] // 2 else 'right'}"


def test_the_built_in_models_maps_are_highest_where_the_planted_picture_is(tmp_path):
    query, result = tmp_path / "query.jpg", tmp_path / "result.jpg"
    planted(108, (0, 0)).save(query, quality=92)
    # the result is stored sideways with an EXIF orientation: its upright picture has the
    # planted one at the bottom right
    planted(208, (320, 240)).rotate(90, expand=True).save(
        result, quality=92, exif=exif_bytes(orientation=6)
    )
    library = Library(tmp_path / "index.sqlite3")
    embedder = Library.embedder("builtin")
    why = library.explain(embedder, str(query), str(result))
    assert (why.model, why.query, why.result) == ("builtin", str(query), str(result))
    assert (why.rows, why.cols) == (14, 14)
    for grid in (why.result_map, why.query_map):
        assert len(grid) == why.rows and all(len(row) == why.cols for row in grid)
        assert all(0.0 <= v <= 1.0 for row in grid for v in row)
    assert max(max(row) for row in why.result_map + why.query_map) == 1.0
    assert best_quarter(why.result_map) == argmax_quarter(why.result_map) == "bottom right"
    assert best_quarter(why.query_map) == argmax_quarter(why.query_map) == "top left"
    expected = library.query_vector(embedder, str(query)) @ library.query_vector(
        embedder, str(result)
    )
    assert why.score == pytest.approx(float(expected), abs=1e-5)  # the search's score


def test_a_region_query_is_explained_over_its_region(tmp_path):
    query, result = tmp_path / "query.jpg", tmp_path / "result.jpg"
    planted(8, (320, 0)).save(query, quality=92)  # planted in the top right quarter
    planted(9, (0, 240)).save(result, quality=92)  # and at the bottom left
    library = Library(tmp_path / "index.sqlite3")
    region = QueryPart(str(query), crop=Crop(0.5, 0, 0.5, 0.5))
    why = library.explain(Library.embedder("builtin"), region, str(result))
    assert best_quarter(why.result_map) == "bottom left"
    # the query map covers the region only: the planted picture fills it
    assert np.mean(why.query_map) > 0.5
    whole = library.explain(Library.embedder("builtin"), str(query), str(result))
    assert why.score > whole.score


def test_dinov2_maps_are_its_patch_grid_upright(tmp_path):
    """Random weights (no download): only the shape and the orientation can be told, so
    the result is the query photo with its bottom half replaced, stored sideways."""
    checkpoint = save_dinov2_checkpoint(tmp_path / "dinov2_vits14_pretrain.pth")
    embedder = Library.embedder("dinov2-small", model_path=checkpoint)
    query, result = tmp_path / "query.jpg", tmp_path / "result.jpg"
    photo = make_photo(5)
    photo.save(query, quality=92)
    changed = photo.copy()
    changed.paste(make_photo(6).crop((0, 240, 640, 480)), (0, 240))
    changed.rotate(90, expand=True).save(result, quality=92, exif=exif_bytes(orientation=6))
    why = Library(tmp_path / "index.sqlite3").explain(embedder, str(query), str(result))
    assert (why.model, why.rows, why.cols) == ("dinov2-small", 16, 16)
    rows = np.asarray(why.result_map)
    assert rows.shape == (16, 16) and rows.min() >= 0 and rows.max() <= 1
    assert rows[:8].mean() > rows[8:].mean() + 0.2  # the kept half is the top one
    assert abs(rows[:, :8].mean() - rows[:, 8:].mean()) < 0.1
    assert np.asarray(why.query_map)[:8].mean() > np.asarray(why.query_map)[8:].mean() + 0.2


def test_the_next_explanation_of_a_query_reuses_its_map_and_a_changed_photo_does_not(tmp_path):
    from albumfinder import explain

    query, first, second = (tmp_path / f"{n}.jpg" for n in ("query", "first", "second"))
    planted(108, (0, 0)).save(query, quality=92)
    planted(208, (320, 240)).save(first, quality=92)
    planted(209, (0, 240)).save(second, quality=92)
    library = Library(tmp_path / "index.sqlite3")
    embedder = Library.embedder("builtin")
    explain.forget_query_maps()
    fresh = library.explain(embedder, str(query), str(second))
    explain.forget_query_maps()
    library.explain(embedder, str(query), str(first))  # keeps the query's map
    again = library.explain(embedder, str(query), str(second))
    assert again == fresh
    planted(110, (0, 0)).save(query, quality=92)  # the photo changed: its map is made anew
    changed = library.explain(embedder, str(query), str(second))
    explain.forget_query_maps()
    assert changed == library.explain(embedder, str(query), str(second))
    assert changed.query_map != fresh.query_map

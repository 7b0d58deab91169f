"""dinov2_retrieval's form: ``albumfinder-cli -q QUERY -d DATABASE [-n N]``.

DATABASE is indexed (incrementally, cached), each query is searched in it alone and a
result picture is written per query. DATABASE does not join the album.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from albumfinder.cli import loading
from albumfinder.cli.main import MAX_TILE_SIZE
from albumfinder.cli.output import Answers, CliError, error_text, report, split_skips
from albumfinder.cli.queries import (
    QueryPlan,
    block_of,
    nothing_to_answer,
    parse_crop,
    plan_queries,
    query_of,
    search_each,
    stopped,
)
from albumfinder.errors import AlbumFinderError

if TYPE_CHECKING:
    from albumfinder.library import LazyEmbedder
    from albumfinder.report import SearchHit

log = logging.getLogger("albumfinder")


def run_seed(args: argparse.Namespace) -> int:
    """Index DATABASE, search each query in it alone, write result pictures. Its vectors
    stay cached for a fast re-run (a throwaway index with ``--disable-cache``)."""
    from albumfinder.library import Library

    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    if not 16 <= args.size <= MAX_TILE_SIZE:
        raise CliError(f"--size must be between 16 and {MAX_TILE_SIZE} pixels")
    database = Library.normalize_path(args.database)
    if not os.path.exists(database):
        raise CliError(f"database not found: {database}")
    problem = Library.root_problem(database)
    if problem is not None:
        raise CliError(f"-d/--database is {problem}: {database}")
    output_root = Path(Library.normalize_path(args.output_root))
    _check_output_root(output_root)
    crop = parse_crop(args.crop)
    plan = plan_queries([args.query])
    if not plan.photos:
        return nothing_to_answer(args, plan)
    with tempfile.TemporaryDirectory(prefix="albumfinder-") as scratch:
        index_file = Path(scratch) / "index.sqlite3" if args.disable_cache else None
        with loading.open_library(index_file) as library:
            model = loading.embedder(args, library)
            if args.disable_cache:
                loading.loaded_now(model)
            out_dir = output_root / Path(database).name / output_model_name(model)
            # Result pictures are never photos of the album, nor queries (-o inside -d, -q).
            _mark_output_folder(out_dir, create=False)
            plan.photos = [q for q in plan.photos if not Library.is_under(q, str(out_dir))]
            targets = result_picture_paths(out_dir, plan)
            answers = Answers(model.spec.name, skipped=plan.skipped)
            known = loading.known_skips(library, [database], model)
            try:
                indexed = loading.index_with_progress(library, model, [database])
            except AlbumFinderError as exc:  # each query still gets its reason
                stopped(answers, plan.photos, error_text(exc))
                answers.failed = plan.failed + answers.failed
                return report(args, answers)
            new, old = split_skips(indexed, known)
            answers.skipped = new + plan.skipped + old
            answers.known_skips = len(old)
            if not library.indexed_count(model.model_key, [database]):
                answers.errors.append(_nothing_indexed(database, len(new) + len(old)))
                answers.failed = plan.failed
                return report(args, answers)

            def search(query: str) -> list[SearchHit]:
                return library.search(  # the model loads if a query needs it
                    model,
                    query_of([query], [], crop),
                    n=args.num,
                    folders=[database],
                    exclude=[str(out_dir)],
                    album_only=False,
                )

            def picture(block: dict) -> None:
                _write_picture(args, block, targets[block["query"]], out_dir, answers)

            search_each(
                plan,
                answers,
                search,
                after_each=picture,
                starts=lambda query: block_of(query, [], crop),
            )
    answers.failed = plan.failed + answers.failed
    return report(args, answers)


def _nothing_indexed(database: str, skipped: int) -> str:
    """Why a seed search has nothing to compare its queries with."""
    if skipped:
        return (
            f"no photo in {database} could be indexed ({skipped} could not be read, see the "
            "skipped list): nothing to compare with"
        )
    return f"no photos in {database}: nothing to compare with"


def output_model_name(model: LazyEmbedder) -> str:
    """The model folder name in result-picture paths (dinov2_retrieval uses dinov2_vits14)."""
    return model.spec.output_name


def _picture_suffix(suffix: str) -> str:
    """The query's own suffix when Pillow can write it (as dinov2_retrieval does), else .png."""
    from PIL import Image

    fmt = Image.registered_extensions().get(suffix.lower())
    return suffix if fmt and fmt in Image.SAVE else ".png"


def result_picture_paths(out_dir: Path, plan: QueryPlan) -> dict[str, Path]:
    """Where each query's result picture goes: ``out_dir/<query stem>_output<ext>`` as
    dinov2_retrieval names it, or, when two queries of a folder would share that name,
    under their subfolder in that query folder (``out_dir/a/x_output.jpg``)."""
    names = {}
    for query in plan.photos:
        path = Path(query)
        names[query] = f"{path.stem}_output{_picture_suffix(path.suffix or '.jpg')}"
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    targets = {}
    for query, name in names.items():
        sub = Path()
        if seen[name.casefold()] > 1:
            root = plan.found_in.get(query)
            parent = Path(query).parent
            sub = parent.relative_to(root) if root else Path(parent.name)
        targets[query] = out_dir / sub / name
    return targets


def _check_output_root(output_root: Path) -> None:
    """Refuse an output folder that cannot be written before any work is done."""
    if output_root.exists() and not output_root.is_dir():
        raise CliError(f"-o/--output-root is not a folder: {output_root}")
    existing = output_root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(f"-o/--output-root cannot be written: {output_root} ({existing})")


def _write_picture(
    args: argparse.Namespace, block: dict, target: Path, out_dir: Path, answers: Answers
) -> None:
    from albumfinder.cli.montage import make_montage
    from albumfinder.errors import ImageLoadError
    from albumfinder.library import Library
    from albumfinder.report import Crop, QueryPart, SearchHit

    query = Path(block["query"])
    crop = Crop(*block["crop"]) if "crop" in block else None
    try:  # a region query shows its region
        image = Library.query_picture(QueryPart(str(query), crop=crop), args.size)
    except ImageLoadError:
        return
    hits = [SearchHit(h["path"], h["score"]) for h in block["results"]]
    picture = make_montage(image, query.name, hits, size=args.size, margin=args.margin)
    try:
        _mark_output_folder(out_dir, create=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        picture.save(target)
    except (OSError, ValueError) as exc:
        answers.errors.append(
            f"cannot write the result picture {target}: {getattr(exc, 'strerror', None) or exc}"
        )
        return
    block["picture"] = str(target.resolve())
    log.info("result picture: %s", target)


def _mark_output_folder(out_dir: Path, create: bool) -> None:
    """Leave the results marker in the result-picture folder so that scans skip it
    (``create``: make the folder first; raises OSError if that fails)."""
    from albumfinder.library import Library

    if create:
        out_dir.mkdir(parents=True, exist_ok=True)
    elif not out_dir.is_dir():
        return
    marker = Library.results_marker(out_dir)
    if not marker.exists():
        try:
            marker.write_text("Result pictures of albumfinder-cli: never indexed as photos.\n")
        except OSError:
            if create:
                raise

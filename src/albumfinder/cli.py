"""`albumfinder-cli`: everything dinov2_retrieval does, plus index/search/embed/models/status.

Heavy imports (torch, the index) happen inside the commands so that ``--help`` is instant.
With ``--json`` exactly one JSON object goes to stdout; logs and progress go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from albumfinder import __version__, runtime

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder
    from albumfinder.indexer import IndexReport
    from albumfinder.library import Library

SUBCOMMANDS = ("index", "search", "embed", "models", "status", "forget")
MAX_TILE_SIZE = 1024  # a 21-tile picture at 1024 px is already 22,000 px wide
SEED_SIZES = {
    "small": "dinov2-small",
    "base": "dinov2-base",
    "large": "dinov2-large",
    "largest": "dinov2-giant",
}
log = logging.getLogger("albumfinder")


class CliError(Exception):
    """A problem to report in one line, exit status 1."""


class UsageError(Exception):
    """A command line argparse refuses (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that lets :func:`main` report a usage error (also as JSON with ``--json``)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}", self.format_usage())


# -- argument parsing ------------------------------------------------------------------
def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "-s",
        "--model-size",
        choices=sorted(SEED_SIZES),
        help="DINOv2 size: small (ViT-S/14), base, large, largest (ViT-g/14)",
    )
    group.add_argument(
        "--model",
        metavar="NAME",
        help="model by name (see `albumfinder-cli models`), e.g. builtin, dinov2-small",
    )
    group.add_argument(
        "-p",
        "--model-path",
        metavar="PATH",
        help="weights: a .pth file, a folder holding it, or a torch-hub repo folder",
    )
    group.add_argument("--device", choices=["cpu", "cuda", "mps"], help="default: the best present")
    group.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16", "fp16", "int8"],
        help="default auto: fp16 on GPUs; for DINOv2 on CPUs bf16 where native, else int8; "
        "else fp32",
    )


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs on stderr")


def build_seed_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="albumfinder-cli",
        description="Find the photos most like a query photo. Seed form: "
        "albumfinder-cli -q QUERY -d DATABASE [-n N]. "
        f"Subcommands: {', '.join(SUBCOMMANDS)} (albumfinder-cli SUBCOMMAND -h).",
    )
    parser.add_argument("-q", "--query", required=True, help="a query photo, or a folder of them")
    parser.add_argument(
        "-d",
        "--database",
        required=True,
        help="a photo or a folder searched recursively (indexed incrementally)",
    )
    parser.add_argument("-n", "--num", type=int, default=1, help="results per query (default 1)")
    parser.add_argument(
        "-o",
        "--output-root",
        default="output",
        help="where result pictures are written (default: output)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=224,
        help=f"tile size in the result picture, 16..{MAX_TILE_SIZE} (default 224)",
    )
    parser.add_argument(
        "-m",
        "--margin",
        type=int,
        default=10,
        choices=range(0, 101, 5),
        metavar="{0,5,...,100}",
        help="gap between tiles (default 10)",
    )
    parser.add_argument(
        "--disable-cache",
        action="store_true",
        help="use a throwaway index: nothing is read from or written to yours",
    )
    _model_options(parser)
    _common_options(parser)
    _version_option(parser)
    return parser


def _version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"albumfinder-cli {__version__}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="albumfinder-cli", description="Album Finder on the command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="add folders to the album and index them (no search)")
    p.add_argument("folders", nargs="*", help="folders to add; none: rescan the album's folders")
    _model_options(p)
    _common_options(p)

    p = sub.add_parser("search", help="search the indexed album")
    p.add_argument("queries", nargs="+", help="query photos or folders of them")
    p.add_argument("-n", "--num", type=int, default=10, help="results per query (default 10)")
    p.add_argument(
        "--folder",
        action="append",
        metavar="FOLDER",
        help="only results under this folder (repeatable)",
    )
    _model_options(p)
    _common_options(p)

    p = sub.add_parser("embed", help="print the embeddings of photos")
    p.add_argument("photos", nargs="+")
    _model_options(p)
    _common_options(p)

    p = sub.add_parser("models", help="list models and whether their weights are here")
    p.add_argument("--download", metavar="NAME", help="download a model's weights")
    p.add_argument("--url", help=argparse.SUPPRESS)  # tests serve weights from 127.0.0.1
    _common_options(p)

    p = sub.add_parser("status", help="the album's folders, counts and skipped photos")
    p.add_argument("--model", metavar="NAME", help="count vectors of this model")
    _common_options(p)

    p = sub.add_parser(
        "forget",
        help="drop what one-off `-q … -d FOLDER` searches cached for photos outside the album",
    )
    p.add_argument("folder", help="photos under this folder (and in no album folder)")
    _common_options(p)
    _version_option(parser)
    return parser


# -- shared helpers --------------------------------------------------------------------
def _emit_json(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _model_name(args: argparse.Namespace) -> str | None:
    if getattr(args, "model", None) and getattr(args, "model_size", None):
        raise CliError("give either --model or -s/--model-size, not both")
    if getattr(args, "model", None):
        return args.model
    if getattr(args, "model_size", None):
        return SEED_SIZES[args.model_size]
    return None


def _load_embedder_when_needed(args: argparse.Namespace) -> Embedder:
    """The model for a search, loaded only when a photo needs embedding (a query that is not
    an indexed photo, a new photo in the seed form's folder): no torch to import for a search
    of indexed photos. Weights that are not here, or a model to download, are dealt with at
    once."""
    from albumfinder.embedding.loading import default_model_name
    from albumfinder.library import LazyEmbedder
    from albumfinder.models.registry import get_spec
    from albumfinder.models.weights import weights_available

    name = _model_name(args)
    if name is None:
        name, reason = default_model_name(args.model_path)
        if reason:
            _say(reason)
    try:
        spec = get_spec(name)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if not weights_available(spec, args.model_path):
        return _load_embedder(args, spec.name)
    return LazyEmbedder(spec, lambda: _load_embedder(args, spec.name))  # type: ignore[return-value]


def _load_embedder(args: argparse.Namespace, model_name: str | None = None) -> Embedder:
    from albumfinder.embedding.loading import load_embedder
    from albumfinder.models.weights import WeightsError
    from albumfinder.progress import ProgressPrinter

    printer = ProgressPrinter()
    try:
        embedder = load_embedder(
            model_name or _model_name(args),
            model_path=args.model_path,
            device=args.device,
            precision=args.precision,
            progress=printer.download,
            log=_say,
        )
    except (WeightsError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        printer.finish()
    log.debug("model %s on %s (%s)", embedder.spec.name, embedder.device, embedder.precision)
    return embedder


def _open_library(path: str | os.PathLike[str] | None = None) -> Library:
    from albumfinder.errors import IndexStoreError
    from albumfinder.library import Library

    try:
        library = Library(path)
    except IndexStoreError as exc:
        raise CliError(str(exc)) from exc
    if library.recovered_from is not None:
        _say(
            f"The index was damaged and has been rebuilt; the damaged copy was kept as "
            f"{library.recovered_from}. Photos will be indexed again."
        )
    return library


@dataclass
class QueryPlan:
    """The photos a command searches with, and what it cannot search with and why."""

    photos: list[str] = field(default_factory=list)
    #: {"query": path, "error": text}: each query that gets no answer, with its reason
    failed: list[dict] = field(default_factory=list)
    #: what scanning the query folders could not look at (broken links, unreadable folders)
    skipped: list[dict] = field(default_factory=list)
    #: photo -> the query folder it was found in (result-picture names)
    found_in: dict[str, str] = field(default_factory=dict)


def _failure(query: str, error: str) -> dict:
    return {"query": query, "error": error}


def plan_queries(items: Sequence[str], what: str = "query") -> QueryPlan:
    """Query paths from files and folders (photos in folders, found recursively).

    Each item that cannot be a query (missing, a broken link, a folder without photos) gets
    its own reason; the others still count. This is checked before anything slow (loading
    the model, indexing the database) happens: a typo costs nothing.
    """
    from albumfinder.scan import normalize_path, scan

    plan = QueryPlan()
    for item in items:
        path = normalize_path(item)
        if os.path.isdir(path):
            found = scan([path])
            problems = [{"path": p, "reason": r} for p, r in sorted(found.problems.items())]
            plan.skipped += problems
            if not found.files:
                more = f" ({len(problems)} could not be read, see below)" if problems else ""
                plan.failed.append(_failure(path, f"no photos in the folder {path}{more}"))
            for photo in sorted(found.files):
                plan.photos.append(photo)
                plan.found_in[photo] = path
        elif os.path.exists(path):
            plan.photos.append(path)
        elif os.path.islink(path):
            plan.failed.append(_failure(path, f"{what} is a broken symbolic link: {path}"))
        else:
            plan.failed.append(_failure(path, f"{what} not found: {path}"))
    return plan


@dataclass
class Answers:
    """What a search command answered, per query, in the order asked."""

    model: str
    queries: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    #: skips listed in full in JSON, but only counted in the table (known from earlier runs)
    known_skips: int = 0
    errors: list[str] = field(default_factory=list)  # problems that are no query's (pictures…)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.errors

    def to_json(self) -> dict:
        payload: dict = {
            "model": self.model,
            "queries": self.queries,
            "failed": self.failed,
            "skipped": self.skipped,
        }
        problems = [f["error"] for f in self.failed] + self.errors
        if problems:
            payload["error"] = "; ".join(problems)
        return payload


def _search_each(
    plan: QueryPlan,
    answers: Answers,
    search: Callable[[str], list],
    after_each: Callable[[dict], None] | None = None,
) -> None:
    """Search with each query photo; one that cannot be read gets its reason, the rest go
    on. A long list shows its progress on stderr."""
    from albumfinder.images import ImageLoadError
    from albumfinder.progress import ProgressPrinter

    printer = ProgressPrinter()
    total = len(plan.photos)
    try:
        for done, query in enumerate(plan.photos):
            if total > 1:
                printer.count("Searching", done, total)
            try:
                hits = search(query)
            except ImageLoadError as exc:
                answers.failed.append(_failure(query, f"cannot search with {query}: {exc.reason}"))
                continue
            block = {
                "query": query,
                "results": [{"path": h.path, "score": round(h.score, 6)} for h in hits],
            }
            if after_each is not None:
                after_each(block)
            answers.queries.append(block)
        if total > 1:
            printer.count("Searching", total, total)
    finally:
        printer.finish()


def _report(args: argparse.Namespace, answers: Answers) -> int:
    """Print the answers (JSON or table); exit status 0 only when every query was answered."""
    if args.json:
        _emit_json(answers.to_json())
    else:
        _print_table(answers)
        _print_skips(answers.skipped, answers.known_skips)
    _print_failures(answers)
    return 0 if answers.complete else 1


def _print_failures(answers: Answers) -> None:
    """Each query that got no answer, with its reason, and other errors: on stderr."""
    for failure in answers.failed:
        _say(f"albumfinder-cli: error: {failure['error']}")
    for error in answers.errors:
        _say(f"albumfinder-cli: error: {error}")
    if answers.failed and answers.queries:
        asked = len(answers.queries) + len(answers.failed)
        _say(f"albumfinder-cli: {len(answers.failed)} of {asked} queries were not answered.")


def _print_table(answers: Answers) -> None:
    for block in answers.queries:
        print(f"Query: {block['query']}")
        if not block["results"]:
            print("  (no indexed photos to compare with)")
        else:
            print(f"  {'rank':>4}  {'score':>6}  path")
        for rank, hit in enumerate(block["results"], start=1):
            print(f"  {rank:>4}  {hit['score']:>6.3f}  {hit['path']}")
        if "picture" in block:
            print(f"  Result picture: {block['picture']}")


def _print_skips(skipped: list[dict], known: int, stream=None) -> None:
    """Each photo skipped for the first time, then a count of those skipped before."""
    stream = stream or sys.stderr
    for item in skipped[: len(skipped) - known]:
        print(f"Skipped {item['path']}: {item['reason']}", file=stream)
    if known:
        print(
            f"{known:,} photos skipped as in earlier runs (list them: albumfinder-cli status).",
            file=stream,
        )


def _split_skips(report: IndexReport, known: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """The report's skips: (new in this run, known before: the same photo with the same
    reason recorded in the index before the run)."""
    new: list[dict] = []
    old: list[dict] = []
    for s in report.skipped:
        (old if known.get(s.path) == s.reason else new).append({"path": s.path, "reason": s.reason})
    return new, old


def _known_skips(library: Library, folders: list[str], embedder: Embedder) -> dict[str, str]:
    return {s.path: s.reason for s in library.skipped(folders, model_key=embedder.model_key)}


def _index_with_progress(
    library: Library, embedder: Embedder, folders: list[str] | None, quiet: bool = False
):
    from albumfinder.progress import ProgressPrinter

    printer = ProgressPrinter()
    try:
        return library.index(embedder, folders, progress=None if quiet else printer)
    finally:
        printer.finish()


def output_model_name(embedder: Embedder) -> str:
    """The model folder name in result-picture paths (dinov2_retrieval uses dinov2_vits14)."""
    return embedder.spec.output_name


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


# -- commands ----------------------------------------------------------------------------
def run_seed(args: argparse.Namespace) -> int:
    """dinov2_retrieval's form: index DATABASE, search each query in it alone, write result
    pictures. DATABASE does not join the album; its vectors stay cached for a fast re-run."""
    from albumfinder.scan import is_under, normalize_path, root_problem

    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    if not 16 <= args.size <= MAX_TILE_SIZE:
        raise CliError(f"--size must be between 16 and {MAX_TILE_SIZE} pixels")
    database = normalize_path(args.database)
    if not os.path.exists(database):
        raise CliError(f"database not found: {database}")
    problem = root_problem(database)
    if problem is not None:
        raise CliError(f"-d/--database is {problem}: {database}")
    output_root = Path(normalize_path(args.output_root))
    _check_output_root(output_root)
    plan = plan_queries([args.query])
    if not plan.photos:
        return _nothing_to_answer(args, plan)
    embedder = _load_embedder(args) if args.disable_cache else _load_embedder_when_needed(args)
    out_dir = output_root / Path(database).name / output_model_name(embedder)
    # Result pictures are never photos of the album, nor queries (-o inside -d or -q).
    _mark_output_folder(out_dir, create=False)
    plan.photos = [q for q in plan.photos if not is_under(q, str(out_dir))]
    targets = result_picture_paths(out_dir, plan)
    answers = Answers(embedder.spec.name, skipped=plan.skipped)
    with tempfile.TemporaryDirectory(prefix="albumfinder-") as scratch:
        index_file = Path(scratch) / "index.sqlite3" if args.disable_cache else None
        library = _open_library(index_file)
        try:
            known = _known_skips(library, [database], embedder)
            report = _index_with_progress(library, embedder, [database])
            new, old = _split_skips(report, known)
            answers.skipped = new + plan.skipped + old
            answers.known_skips = len(old)

            def search(query: str) -> list:
                return library.search(
                    embedder,
                    query,
                    n=args.num,
                    folders=[database],
                    exclude=[str(out_dir)],
                    album_only=False,
                )

            def picture(block: dict) -> None:
                _write_picture(args, block, targets[block["query"]], out_dir, answers)

            _search_each(plan, answers, search, after_each=picture)
        finally:
            library.close()
    answers.failed = plan.failed + answers.failed
    return _report(args, answers)


def _nothing_to_answer(args: argparse.Namespace, plan: QueryPlan) -> int:
    """No query can be searched with: each reason, and nothing slow was done."""
    return _report(args, Answers(model="", failed=plan.failed, skipped=plan.skipped))


def _write_picture(
    args: argparse.Namespace, block: dict, target: Path, out_dir: Path, answers: Answers
) -> None:
    from albumfinder.images import ImageLoadError, open_photo
    from albumfinder.montage import make_montage
    from albumfinder.search import SearchHit

    query = Path(block["query"])
    try:
        image = open_photo(query, min_size=args.size)
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


def run_search(args: argparse.Namespace) -> int:
    """Search the album (only photos under its folders) with each query."""
    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    plan = plan_queries(args.queries)
    if not plan.photos:
        return _nothing_to_answer(args, plan)
    embedder = _load_embedder_when_needed(args)
    answers = Answers(embedder.spec.name, skipped=plan.skipped)
    library = _open_library()
    try:
        if not library.album_photo_count(embedder.model_key):
            answers.errors.append(
                f"nothing in the album is indexed with {embedder.spec.name} yet: "
                "run `albumfinder-cli index FOLDER` first"
            )
            answers.failed = plan.failed
            return _report(args, answers)

        def search(query: str) -> list:
            return library.search(embedder, query, n=args.num, folders=args.folder)

        _search_each(plan, answers, search)
    finally:
        library.close()
    answers.failed = plan.failed + answers.failed
    return _report(args, answers)


def _mark_output_folder(out_dir: Path, create: bool) -> None:
    """Leave :data:`~albumfinder.scan.OUTPUT_MARKER` in the result-picture folder so that
    scans skip it (``create``: make the folder first; raises OSError if that fails)."""
    from albumfinder.scan import OUTPUT_MARKER

    if create:
        out_dir.mkdir(parents=True, exist_ok=True)
    elif not out_dir.is_dir():
        return
    marker = out_dir / OUTPUT_MARKER
    if not marker.exists():
        try:
            marker.write_text("Result pictures of albumfinder-cli: never indexed as photos.\n")
        except OSError:
            if create:
                raise


def run_index(args: argparse.Namespace) -> int:
    library = _open_library()
    try:
        from albumfinder.scan import normalize_path

        if args.folders:
            for folder in args.folders:  # all or none: a typo adds nothing to the album
                path = normalize_path(folder)
                if not os.path.isdir(path):
                    what = "not a folder" if os.path.exists(path) else "folder not found"
                    raise CliError(f"{what}: {path}")
            roots = []
            for folder in args.folders:
                try:
                    roots.append(library.add_folder(folder))
                except (OSError, ValueError) as exc:
                    raise CliError(str(exc)) from exc
        else:
            roots = library.folders()
            if not roots:
                raise CliError("no folders in the album yet: albumfinder-cli index FOLDER...")
        from albumfinder.library import LazyEmbedder  # loaded only if a photo needs it

        embedder = LazyEmbedder.named(
            _model_name(args), lambda name: _load_embedder(args, name), args.model_path, _say
        )
        roots = [normalize_path(r) for r in roots]
        known = _known_skips(library, roots, embedder)
        report = _index_with_progress(library, embedder, roots)
    finally:
        library.close()
    if args.json:
        _emit_json(report.to_json())
    else:
        print(
            f"Indexed {len(report.folders)} folder(s) with {report.model} in "
            f"{report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.moved} moved, {report.unchanged} unchanged, "
            f"{len(report.skipped)} skipped."
        )
        for folder in report.missing_folders:
            print(f"Folder not found (kept in the album; unplugged drive?): {folder}")
        if report.elsewhere:
            print(f"{report.elsewhere} photo(s) left to another indexing run at work on them.")
        new, old = _split_skips(report, known)
        _print_skips(new + old, len(old), stream=sys.stdout)
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from albumfinder.images import ImageLoadError, open_photo

    plan = plan_queries(args.photos, what="photo")
    if plan.failed:
        raise CliError(plan.failed[0]["error"])
    photos, skipped = plan.photos, plan.skipped
    embedder = _load_embedder(args)
    rows = []
    for path in photos:
        try:
            image = open_photo(path, min_size=embedder.decode_size)
        except ImageLoadError as exc:
            skipped.append({"path": path, "reason": exc.reason})
            continue
        vector = embedder.embed_prepared([embedder.prepare(image)])[0]
        rows.append({"path": path, "vector": [round(float(x), 6) for x in vector]})
    if args.json:
        _emit_json({"model": embedder.spec.name, "embeddings": rows, "skipped": skipped})
    else:
        for row in rows:
            print(row["path"] + "\t" + " ".join(f"{x:.6f}" for x in row["vector"]))
        for item in skipped:
            _say(f"Skipped {item['path']}: {item['reason']}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from albumfinder.models.registry import LISTED_MODELS, get_spec
    from albumfinder.models.weights import (
        WeightsError,
        download_url,
        download_weights,
        find_weights,
    )
    from albumfinder.progress import ProgressPrinter

    if args.download:
        try:
            spec = get_spec(args.download)
        except (KeyError, ValueError) as exc:
            raise CliError(str(exc)) from exc
        if spec.weights_url is None and args.url is None:
            raise CliError(f"{spec.name} needs no download")
        printer = ProgressPrinter()
        try:
            path = download_weights(spec, url=args.url, progress=printer.download)
        except WeightsError as exc:
            raise CliError(str(exc)) from exc
        finally:
            printer.finish()
        _say(f"Saved {spec.name} weights to {path}")
    rows = []
    for spec in map(get_spec, LISTED_MODELS):
        found = find_weights(spec)
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "dim": spec.dim,
                "weights": str(found) if found else None,
                "present": found is not None,
                "url": download_url(spec),
            }
        )
    if args.json:
        _emit_json({"models": rows})
    else:
        print(f"{'name':<18} {'dim':>5}  {'weights':<8} description")
        for row in rows:
            present = "present" if row["present"] else "missing"
            print(f"{row['name']:<18} {row['dim']:>5}  {present:<8} {row['title']}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    library = _open_library()
    try:
        if args.model:
            from albumfinder.models.registry import get_spec

            try:
                model_key = get_spec(args.model).key
            except (KeyError, ValueError) as exc:
                raise CliError(str(exc)) from exc
        else:
            keys = library.store.model_keys()
            model_key = max(keys, key=keys.get) if keys else ""
        folders = library.folder_status(model_key, count_pending=True)
        models = library.store.model_keys()
        index_path = str(library.store.path)
        # what the index recorded (unreadable photos) and what the scan met (broken links,
        # unreadable folders): the same list `index` reported
        reasons = {s.path: s.reason for s in library.skipped(model_key=model_key or None)}
        for f in folders:
            reasons.update(f.scan_problems)
        skipped = sorted(reasons.items())
        # photos indexed by a seed-form search (`-d FOLDER`) that is not an album folder
        outside = library.count_outside_album()
    finally:
        library.close()
    if args.json:
        _emit_json(
            {
                "index": index_path,
                "model_key": model_key,
                "models": models,
                "folders": [
                    {
                        "path": f.path,
                        "exists": f.exists,
                        "indexed": f.indexed,
                        "pending": f.pending,
                        "skipped": f.skipped + len(f.scan_problems),
                    }
                    for f in folders
                ],
                "outside_album": outside,
                "skipped": [{"path": p, "reason": r} for p, r in skipped],
            }
        )
        return 0
    print(f"Index: {index_path}")
    if not folders:
        print("No folders in the album yet: albumfinder-cli index FOLDER")
    else:
        model = f" (model {model_key.split('/')[0]})" if model_key else ""
        print(f"Folders{model}:")
    for f in folders:
        print(f"  {f.path}")
        if not f.exists:
            print("      not found (kept in the album; unplugged drive?)")
        pending = "" if f.pending is None else f", {f.pending:,} not indexed yet"
        print(f"      {f.indexed:,} indexed{pending}, {f.skipped + len(f.scan_problems):,} skipped")
    if outside:
        print(
            f"Also indexed: {outside:,} photos outside the album's folders, cached by "
            "`-q … -d FOLDER` searches and never shown in album searches. Drop them with "
            "`albumfinder-cli forget FOLDER`; add a folder to the album with "
            "`albumfinder-cli index FOLDER`."
        )
    if models:
        print("Photos indexed per model:")
        for key, count in sorted(models.items()):
            print(f"  {key.split('/')[0]:<18} {count:>8,}")
    if skipped:
        print(f"Skipped ({len(skipped):,}):")
        for path, reason in skipped:
            print(f"  {path}: {reason}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    """Drop the cached vectors of photos under FOLDER that are in no album folder."""
    library = _open_library()
    try:
        try:
            dropped = library.forget(args.folder)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        left = library.count_outside_album()
    finally:
        library.close()
    if args.json:
        _emit_json({"forgotten": dropped, "outside_album": left})
    elif dropped:
        print(f"Forgot {dropped:,} photos (the photo files are untouched); {left:,} left.")
    else:
        print(f"Nothing cached under that folder outside the album; {left:,} left.")
    return 0


COMMANDS = {
    "index": run_index,
    "search": run_search,
    "embed": run_embed,
    "models": run_models,
    "status": run_status,
    "forget": run_forget,
}


def main(argv: Sequence[str] | None = None) -> int:
    runtime.tune_process()  # before torch is imported
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            args = build_parser().parse_args(argv)
            command = COMMANDS[args.command]
        else:
            args = build_seed_parser().parse_args(argv)
            command = run_seed
    except UsageError as exc:
        message, usage = exc.args
        sys.stderr.write(usage)
        _say(message)
        if wants_json:
            _emit_json({"error": message})
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 prints escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return command(args)
    except CliError as exc:
        return _fail(args, str(exc))
    except Exception as exc:
        from albumfinder.errors import IndexStoreError  # the index failed mid-run (disk full, …)

        if not isinstance(exc, IndexStoreError):
            raise
        return _fail(args, str(exc))
    except KeyboardInterrupt:
        indexes = command is run_index or (command is run_seed and not args.disable_cache)
        text = "interrupted; what was indexed so far is kept" if indexes else "interrupted"
        return _fail(args, text, status=130)


def _fail(args: argparse.Namespace, text: str, status: int = 1) -> int:
    """One error line on stderr; with ``--json`` also the one JSON object on stdout."""
    _say(f"albumfinder-cli: error: {text}" if status == 1 else f"albumfinder-cli: {text}.")
    if getattr(args, "json", False):
        _emit_json({"error": text})
    return status


if __name__ == "__main__":
    raise SystemExit(main())

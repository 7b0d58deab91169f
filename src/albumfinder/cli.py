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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from albumfinder.embedder import Embedder
    from albumfinder.library import Library

SUBCOMMANDS = ("index", "search", "embed", "models", "status")
SEED_SIZES = {
    "small": "dinov2-small",
    "base": "dinov2-base",
    "large": "dinov2-large",
    "largest": "dinov2-giant",
}
log = logging.getLogger("albumfinder")


class CliError(Exception):
    """A problem to report in one line, exit status 1."""


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
    parser = argparse.ArgumentParser(
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
    parser.add_argument("--size", type=int, default=224, help="tile size in the result picture")
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
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albumfinder-cli", description="Album Finder on the command line."
    )
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


def _load_embedder(args: argparse.Namespace) -> Embedder:
    from albumfinder.embedder import load_embedder
    from albumfinder.models.weights import WeightsError
    from albumfinder.progress import ProgressPrinter

    printer = ProgressPrinter()
    try:
        embedder = load_embedder(
            _model_name(args),
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
    from albumfinder.library import Library
    from albumfinder.store import IndexError_

    try:
        library = Library(path)
    except IndexError_ as exc:
        raise CliError(str(exc)) from exc
    if library.recovered_from is not None:
        _say(
            f"The index was damaged and has been rebuilt; the damaged copy was kept as "
            f"{library.recovered_from}. Photos will be indexed again."
        )
    return library


def _query_photos(items: Sequence[str], what: str = "query") -> tuple[list[str], list[dict]]:
    """Query paths from files and folders (photos in folders, found recursively).

    A path that does not exist is an error, raised before anything slow (loading the model,
    indexing the database) happens: a typo should cost nothing.
    """
    from albumfinder.scan import normalize_path, scan

    photos: list[str] = []
    skipped: list[dict] = []
    for item in items:
        path = normalize_path(item)
        if os.path.isdir(path):
            found = scan([path])
            photos += sorted(found.files)
            skipped += [{"path": p, "reason": r} for p, r in sorted(found.problems.items())]
        elif os.path.exists(path):
            photos.append(path)
        elif os.path.islink(path):
            raise CliError(f"{what} is a broken symbolic link: {path}")
        else:
            raise CliError(f"{what} not found: {path}")
    return photos, skipped


def _run_queries(
    library: Library,
    embedder: Embedder,
    queries: list[str],
    n: int,
    folders: list[str] | None,
    exclude: list[str] | None = None,
) -> tuple[list[dict], list[dict]]:
    from albumfinder.images import ImageLoadError

    results, skipped = [], []
    for query in queries:
        try:
            hits = library.search(embedder, query, n=n, folders=folders, exclude=exclude)
        except ImageLoadError as exc:
            skipped.append({"path": query, "reason": exc.reason})
            continue
        results.append(
            {
                "query": query,
                "results": [{"path": h.path, "score": round(h.score, 6)} for h in hits],
            }
        )
    return results, skipped


def _print_table(results: list[dict], skipped: list[dict]) -> None:
    if not results:
        print("No results.")
    for block in results:
        print(f"Query: {block['query']}")
        if not block["results"]:
            print("  (no indexed photos to compare with)")
        print(f"  {'rank':>4}  {'score':>6}  path")
        for rank, hit in enumerate(block["results"], start=1):
            print(f"  {rank:>4}  {hit['score']:>6.3f}  {hit['path']}")
    for item in skipped:
        print(f"Skipped {item['path']}: {item['reason']}", file=sys.stderr)


def _index_with_progress(
    library: Library, embedder: Embedder, folders: list[str] | None, quiet: bool = False
):
    from albumfinder.progress import ProgressPrinter

    printer = ProgressPrinter()
    try:
        return library.index(embedder, folders, progress=None if quiet else printer)
    finally:
        printer.finish()


def _skipped_json(report) -> list[dict]:
    return [{"path": s.path, "reason": s.reason} for s in report.skipped]


def output_model_name(embedder: Embedder) -> str:
    """The model folder name in result-picture paths (dinov2_retrieval uses dinov2_vits14)."""
    filename = embedder.spec.weights_filename
    if embedder.spec.family == "dinov2" and filename:
        return filename.split("_pretrain")[0]
    return embedder.spec.name


# -- commands ----------------------------------------------------------------------------
def run_seed(args: argparse.Namespace) -> int:
    """dinov2_retrieval's form: index DATABASE, search each query, write result pictures."""
    from albumfinder.images import ImageLoadError, open_photo
    from albumfinder.montage import make_montage
    from albumfinder.scan import is_under, normalize_path, root_problem

    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    if args.size < 16:
        raise CliError("--size must be at least 16 pixels")
    database = normalize_path(args.database)
    if not os.path.exists(database):
        raise CliError(f"database not found: {database}")
    problem = root_problem(database)
    if problem is not None:
        raise CliError(f"-d/--database is {problem}: {database}")
    output_root = Path(normalize_path(args.output_root))
    if output_root.exists() and not output_root.is_dir():
        raise CliError(f"-o/--output-root is not a folder: {output_root}")
    queries, skipped = _query_photos([args.query])
    if not queries and not skipped:
        raise CliError(f"no query photos in {normalize_path(args.query)}")
    embedder = _load_embedder(args)
    out_dir = output_root / Path(database).name / output_model_name(embedder)
    # Result pictures are never photos of the album, nor queries (-o inside -d or -q).
    _mark_output_folder(out_dir, create=False)
    queries = [q for q in queries if not is_under(q, str(out_dir))]
    with tempfile.TemporaryDirectory(prefix="albumfinder-") as scratch:
        index_file = Path(scratch) / "index.sqlite3" if args.disable_cache else None
        library = _open_library(index_file)
        try:
            report = _index_with_progress(library, embedder, [database])
            skipped += _skipped_json(report)
            results, failed = _run_queries(
                library, embedder, queries, args.num, [database], exclude=[str(out_dir)]
            )
        finally:
            library.close()
    skipped += failed
    status = 0
    for block in results:
        query = Path(block["query"])
        try:
            image = open_photo(query, min_size=args.size)
        except ImageLoadError:
            continue
        from albumfinder.search import SearchHit

        hits = [SearchHit(h["path"], h["score"]) for h in block["results"]]
        picture = make_montage(image, query.name, hits, size=args.size, margin=args.margin)
        target = out_dir / f"{query.stem}_output{query.suffix or '.jpg'}"
        try:
            _mark_output_folder(out_dir, create=True)
            try:
                picture.save(target)
            except (ValueError, OSError):  # a suffix Pillow cannot write (e.g. .heic): use PNG
                target = target.with_suffix(".png")
                picture.save(target)
        except OSError as exc:
            _say(
                f"albumfinder-cli: error: cannot write the result picture {target}: "
                f"{exc.strerror or exc}"
            )
            status = 1
            continue
        block["picture"] = str(target.resolve())
        log.info("result picture: %s", target)
    if args.json:
        _emit_json({"model": embedder.spec.name, "queries": results, "skipped": skipped})
    else:
        _print_table(results, skipped)
        for block in results:
            if "picture" in block:
                print(f"Result picture: {block['picture']}")
    return status


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
        embedder = _load_embedder(args)
        report = _index_with_progress(library, embedder, [normalize_path(r) for r in roots])
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
        for item in report.skipped:
            print(f"  skipped {item.path}: {item.reason}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    queries, skipped = _query_photos(args.queries)
    embedder = _load_embedder(args)
    library = _open_library()
    try:
        if not len(library.vectors(embedder.model_key)):
            _say(
                f"Nothing is indexed with {embedder.spec.name} yet: "
                "run `albumfinder-cli index FOLDER` first."
            )
        results, failed = _run_queries(library, embedder, queries, args.num, args.folder)
    finally:
        library.close()
    skipped += failed
    if args.json:
        _emit_json({"model": embedder.spec.name, "queries": results, "skipped": skipped})
    else:
        _print_table(results, skipped)
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from albumfinder.images import ImageLoadError, open_photo

    photos, skipped = _query_photos(args.photos, what="photo")
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
    from albumfinder.models.registry import MODELS, get_spec
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
    for spec in MODELS.values():
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
        outside = 0
        if model_key:
            vectors = library.vectors(model_key)
            inside = vectors.rows_under([f.path for f in folders]) if folders else []
            outside = len(vectors) - len(inside)
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
            f"Also indexed: {outside:,} photos outside the album's folders "
            "(from `-q … -d FOLDER` searches; add a folder with `albumfinder-cli index FOLDER`)"
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


COMMANDS = {
    "index": run_index,
    "search": run_search,
    "embed": run_embed,
    "models": run_models,
    "status": run_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        command = COMMANDS[args.command]
    else:
        args = build_seed_parser().parse_args(argv)
        command = run_seed
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
        _say(f"albumfinder-cli: error: {exc}")
        return 1
    except Exception as exc:
        from albumfinder.store import IndexError_  # the index failed mid-run (disk full, …)

        if not isinstance(exc, IndexError_):
            raise
        _say(f"albumfinder-cli: error: {exc}")
        return 1
    except KeyboardInterrupt:
        indexes = command is run_index or (command is run_seed and not args.disable_cache)
        _say(
            "albumfinder-cli: interrupted; what was indexed so far is kept."
            if indexes
            else "albumfinder-cli: interrupted."
        )
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

"""`albumfinder-cli`: everything dinov2_retrieval does, plus index/search/embed/models/status.

This module parses the command line and hands it to a command (one module each). Heavy
imports (torch, the index) happen inside the commands so that ``--help`` is instant. With
``--json`` exactly one JSON object goes to stdout; logs and progress go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from albumfinder import __version__, runtime
from albumfinder.cli.output import UsageError, emit_json, error_text, fail, say, start_run
from albumfinder.errors import AlbumFinderError
from albumfinder.models import registry
from albumfinder.models.registry import SEED_SIZES

SUBCOMMANDS = (
    "index",
    "search",
    "embed",
    "models",
    "status",
    "forget",
    "put-back",
    "map",
    "outliers",
)
#: each command's module (imported only when it runs) and function; "" is the seed form
COMMANDS = {
    "": ("seed", "run_seed"),
    "index": ("index", "run_index"),
    "search": ("search", "run_search"),
    "embed": ("embed", "run_embed"),
    "models": ("models", "run_models"),
    "status": ("status", "run_status"),
    "forget": ("status", "run_forget"),
    "put-back": ("put_back", "run_put_back"),
    "map": ("map", "run_map"),
    "outliers": ("outliers", "run_outliers"),
}
MAX_TILE_SIZE = 1024  # a 21-tile picture at 1024 px is already 22,000 px wide
#: the precisions the core knows (the registry's Precision enum: one list)
PRECISIONS = tuple(str(p.value) for p in registry.Precision)


class _Parser(argparse.ArgumentParser):
    """argparse that lets :func:`main` report a usage error (also as JSON with ``--json``)."""

    def error(self, message: str):
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
    group.add_argument("--device", choices=registry.DEVICES, help="default: the best present")
    group.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="default auto: fp16 on GPUs; for DINOv2 on CPUs bf16 where native, int8 where "
        "the CPU has int8 dot products (x86 VNNI); else (a plain AVX2 CPU, Arm) fp32",
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

    p = sub.add_parser("put-back", help="undo a move to the trash: its photos go back in place")
    p.add_argument("action", nargs="?", metavar="ACTION_ID", help="default: the last one")
    _common_options(p)

    p = sub.add_parser("map", help="a picture of the album: look-alikes together, in groups")
    p.add_argument("folders", nargs="*", metavar="FOLDER", help="only photos under these")
    p.add_argument(
        "-o", "--output", metavar="PICTURE", help="where the picture goes (default: output/)"
    )
    _model_options(p)
    _common_options(p)

    p = sub.add_parser("outliers", help="the photos of a folder that do not belong")
    p.add_argument("folder", metavar="FOLDER", help="an album folder, or one in the album")
    p.add_argument("-n", "--num", type=int, default=20, help="how many (default 20)")
    _model_options(p)
    _common_options(p)
    _version_option(parser)
    return parser


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    module, function = COMMANDS[name]
    command: Callable[[argparse.Namespace], int]
    command = getattr(importlib.import_module(f"albumfinder.cli.{module}"), function)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    runtime.tune_process()  # before torch is imported
    argv = list(sys.argv[1:] if argv is None else argv)
    start_run()
    wants_json = "--json" in argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            args = build_parser().parse_args(argv)
        else:
            args = build_seed_parser().parse_args(argv)
            args.command = ""
    except UsageError as exc:
        message, usage = exc.args
        sys.stderr.write(usage)
        say(message)
        if wants_json:
            emit_json({"error": message})
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
        return _command(args.command)(args)
    except AlbumFinderError as exc:  # the CLI's own checks, and the core's (index, weights…)
        return fail(args, error_text(exc))
    except KeyboardInterrupt:
        indexes = args.command == "index" or (args.command == "" and not args.disable_cache)
        text = "interrupted; what was indexed so far is kept" if indexes else "interrupted"
        return fail(args, text, status=130)
    except Exception as exc:
        if not args.json:
            raise  # a bug: the traceback, as Python prints it
        traceback.print_exc(file=sys.stderr)  # and still the one JSON object on stdout
        return fail(args, f"unexpected error: {type(exc).__name__}: {exc}")

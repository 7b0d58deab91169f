"""The model and the album a command works with, from its options.

Heavy imports (the index, torch) happen inside these functions, so ``--help`` is instant;
a model is loaded only when a photo needs embedding.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

from albumfinder.cli.output import CliError, say
from albumfinder.cli.progress import ProgressPrinter
from albumfinder.models.registry import SEED_SIZES

if TYPE_CHECKING:
    from albumfinder.library import LazyEmbedder, Library
    from albumfinder.report import IndexReport

log = logging.getLogger("albumfinder")


def model_name(args: argparse.Namespace) -> str | None:
    """The model the options name (``--model`` or the seed form's ``-s``), if any."""
    if getattr(args, "model", None) and getattr(args, "model_size", None):
        raise CliError("give either --model or -s/--model-size, not both")
    if getattr(args, "model", None):
        return str(args.model)
    if getattr(args, "model_size", None):
        return SEED_SIZES[args.model_size]
    return None


def embedder(args: argparse.Namespace, library: Library) -> LazyEmbedder:
    """The model for a command (the default one when the options name none, saying why
    when it falls back), loaded only when a photo needs embedding (a query that is not an
    indexed photo, a new photo in a folder): a search of indexed photos imports no torch.
    Weights that are not here, or a model to download, are dealt with at once."""
    printer = ProgressPrinter()
    model = library.embedder(
        model_name(args),
        args.model_path,
        say,
        device=args.device,
        precision=args.precision,
        allow_download=True,
        progress=printer.download,
    )
    rows = library.models(args.model_path)
    if not any(row.name == model.spec.name and row.weights_present for row in rows):
        loaded_now(model, printer)
    return model


def loaded_now(model: LazyEmbedder, printer: ProgressPrinter | None = None) -> LazyEmbedder:
    """``model``, loaded (downloaded first if need be) before anything else happens."""
    try:
        loaded = model.get()
    finally:
        if printer is not None:
            printer.finish()
    log.debug("model %s on %s (%s)", loaded.spec.name, loaded.device, loaded.precision)
    return model


def open_library(path: str | os.PathLike[str] | None = None) -> Library:
    from albumfinder.library import Library

    library = Library(path)
    note = library.recovery_note()  # the same words as the window's
    if note is not None:
        say(note)
    return library


def known_skips(library: Library, folders: list[str], model: LazyEmbedder) -> dict[str, str]:
    return {s.path: s.reason for s in library.skipped(folders, model_key=model.model_key)}


def index_with_progress(
    library: Library, model: LazyEmbedder, folders: list[str] | None
) -> IndexReport:
    printer = ProgressPrinter()
    try:
        return library.index(model, folders, progress=printer)
    finally:
        printer.finish()

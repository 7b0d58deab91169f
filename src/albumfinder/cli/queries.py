"""The photos a command searches with, and searching with each of them."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from albumfinder.cli.output import Answers, CliError, error_text, failure, report
from albumfinder.cli.progress import ProgressPrinter
from albumfinder.errors import AlbumFinderError, ImageLoadError
from albumfinder.report import CombinedQuery, Crop, QueryPart, SearchFilter, SearchHit


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


def plan_queries(items: Sequence[str], what: str = "query") -> QueryPlan:
    """Query paths from files and folders (photos in folders, found recursively), each
    item that cannot be a query with its own reason; checked before anything slow."""
    from albumfinder.library import Library

    found = Library.expand_queries(items, what)
    return QueryPlan(
        photos=found.photos,
        failed=[failure(f.path, f.reason) for f in found.failed],
        skipped=[{"path": s.path, "reason": s.reason} for s in found.skipped],
        found_in=found.found_in,
    )


def nothing_to_answer(args: argparse.Namespace, plan: QueryPlan) -> int:
    """No query can be searched with: each reason, and nothing slow was done."""
    return report(args, Answers(model="", failed=plan.failed, skipped=plan.skipped))


# -- what a query is made of: regions, negatives, filters ------------------------------------
def add_crop_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--crop",
        metavar="LEFT,TOP,WIDTH,HEIGHT",
        help="search with this region of each query photo: fractions 0-1 of the upright "
        "photo, e.g. 0.5,0,0.5,0.5 for the top right quarter",
    )


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (applied inside the search: N results stay N)")
    group.add_argument(
        "--under",
        action="append",
        metavar="FOLDER",
        help="only results under this folder (repeatable)",
    )
    group.add_argument(
        "--taken-after",
        metavar="DATE",
        help="only photos taken on or after this day (YYYY-MM-DD; EXIF date, else the "
        "file's modification time)",
    )
    group.add_argument(
        "--taken-before", metavar="DATE", help="only photos taken on or before this day"
    )
    group.add_argument(
        "--exclude-query-folder",
        action="store_true",
        help="no results from the folder of a query photo (its subfolders stay)",
    )
    group.add_argument(
        "--min-score", type=float, metavar="S", help="only results scoring at least S (-1..1)"
    )


def parse_crop(text: str | None) -> Crop | None:
    """``--crop LEFT,TOP,WIDTH,HEIGHT`` as a :class:`Crop`; CliError when it is none."""
    if text is None:
        return None
    pieces = text.split(",")
    try:
        values = [float(piece) for piece in pieces]
    except ValueError:
        values = []
    if len(values) != 4 or len(pieces) != 4:
        raise CliError(
            f"--crop must be four numbers LEFT,TOP,WIDTH,HEIGHT (fractions 0-1 of the "
            f"photo, e.g. 0,0,0.5,0.5), not {text!r}"
        )
    crop = Crop(*values)
    problem = crop.problem()
    if problem is not None:
        raise CliError(f"--crop {text} is no region of a photo: {problem}")
    return crop


def _parse_day(option: str, text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{option} must be a date as YYYY-MM-DD (e.g. 2024-07-31), not {text!r}"
        ) from None


def parse_filters(args: argparse.Namespace) -> SearchFilter | None:
    """The search's filter options as one :class:`SearchFilter` (None: no filter asked)."""
    from albumfinder.library import Library

    flt = SearchFilter(
        under=tuple(Library.normalize_path(f) for f in args.under or ()),
        taken_after=_parse_day("--taken-after", args.taken_after),
        taken_before=_parse_day("--taken-before", args.taken_before),
        exclude_query_folders=args.exclude_query_folder,
        min_score=args.min_score,
    )
    if flt == SearchFilter():
        return None
    problem = flt.problem()
    if problem is not None:
        raise CliError(f"--taken-after/--taken-before/--min-score: {problem}")
    return flt


def plan_negatives(items: Sequence[str] | None) -> list[str]:
    """The ``--not`` photos; each must be there (checked before anything slow)."""
    found = plan_queries(items or [], "--not photo")
    if found.failed:
        raise CliError("; ".join(f["error"] for f in found.failed))
    return found.photos


def query_of(photos: Sequence[str], negatives: Sequence[str], crop: Crop | None) -> CombinedQuery:
    """The query the command line asks: ``photos`` together (each of weight 1) minus the
    ``negatives``; ``crop`` applies to every photo."""
    return CombinedQuery(
        tuple(QueryPart(p, crop=crop) for p in photos),
        tuple(QueryPart(p, crop=crop) for p in negatives),
    )


def block_of(query: str | list[str], negatives: Sequence[str], crop: Crop | None) -> dict:
    """The start of a query's JSON entry: "query" (a list for a combined query), "not"
    (when there are negatives or the query is combined), "crop" (a region query)."""
    block: dict = {"query": query}
    if negatives or isinstance(query, list):
        block["not"] = list(negatives)
    if crop is not None:
        block["crop"] = crop.as_list()
    return block


def search_together(
    plan: QueryPlan,
    answers: Answers,
    block: dict,
    search: Callable[[], list[SearchHit]],
) -> None:
    """Search with all of ``plan``'s photos as one query (``block`` starts its entry). A
    photo that cannot be found, or read, means the query is not searched, with the reasons."""
    if plan.failed:
        answers.failed.append(
            failure(
                block["query"],
                f"the photos were not searched together: {len(plan.failed)} of them "
                "cannot be used (see their reasons)",
            )
        )
        return
    try:
        hits = search()
    except ImageLoadError as exc:
        answers.failed.append(failure(block["query"], f"cannot search with {exc.message}"))
        return
    except AlbumFinderError as exc:
        answers.errors.append(error_text(exc))
        answers.failed.append(failure(block["query"], "the photos were not searched together"))
        return
    block["results"] = [{"path": h.path, "score": round(h.score, 6)} for h in hits]
    answers.queries.append(block)


def search_each(
    plan: QueryPlan,
    answers: Answers,
    search: Callable[[str], list[SearchHit]],
    after_each: Callable[[dict], None] | None = None,
    starts: Callable[[str], dict] | None = None,
) -> None:
    """Search with each query photo; one that cannot be read gets its reason, the rest go
    on. An error that stops searching (the model cannot be loaded, the index cannot be
    read) is added to the answers given so far, and each query left gets its reason. A
    long list shows its progress on stderr."""
    printer = ProgressPrinter()
    total = len(plan.photos)
    try:
        for done, query in enumerate(plan.photos):
            if total > 1:
                printer.count("Searching", done, total)
            try:
                hits = search(query)
            except ImageLoadError as exc:
                why = exc.reason if exc.path in (None, query) else exc.message
                answers.failed.append(failure(query, f"cannot search with {query}: {why}"))
                continue
            except AlbumFinderError as exc:
                stopped(answers, plan.photos[done:], error_text(exc))
                return
            block = starts(query) if starts is not None else {"query": query}
            block["results"] = [{"path": h.path, "score": round(h.score, 6)} for h in hits]
            if after_each is not None:
                after_each(block)
            answers.queries.append(block)
        if total > 1:
            printer.count("Searching", total, total)
    finally:
        printer.finish()


def stopped(answers: Answers, left: Sequence[str], error: str) -> None:
    """Searching stopped at ``error``: it joins the answers, and each query in ``left``
    (not searched) gets its own reason."""
    answers.errors.append(error)
    for query in left:
        answers.failed.append(failure(query, f"{query} was not searched: the search stopped"))

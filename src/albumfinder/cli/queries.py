"""The photos a command searches with, and searching with each of them."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from albumfinder.cli.output import Answers, error_text, failure, report
from albumfinder.cli.progress import ProgressPrinter
from albumfinder.errors import AlbumFinderError, ImageLoadError
from albumfinder.report import SearchHit


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


def search_each(
    plan: QueryPlan,
    answers: Answers,
    search: Callable[[str], list[SearchHit]],
    after_each: Callable[[dict], None] | None = None,
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
                answers.failed.append(failure(query, f"cannot search with {query}: {exc.reason}"))
                continue
            except AlbumFinderError as exc:
                stopped(answers, plan.photos[done:], error_text(exc))
                return
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


def stopped(answers: Answers, left: Sequence[str], error: str) -> None:
    """Searching stopped at ``error``: it joins the answers, and each query in ``left``
    (not searched) gets its own reason."""
    answers.errors.append(error)
    for query in left:
        answers.failed.append(failure(query, f"{query} was not searched: the search stopped"))

"""``albumfinder-cli search QUERY…``: search the indexed album with each query photo, or
with all of them as one query (``--together``), minus ``--not`` photos, a region of each
(``--crop``) and filters (``--under``, ``--taken-after``/``--taken-before``, ``--min-score``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from albumfinder.cli import loading
from albumfinder.cli.output import Answers, CliError, report
from albumfinder.cli.queries import (
    block_of,
    nothing_to_answer,
    parse_crop,
    parse_filters,
    plan_negatives,
    plan_queries,
    query_of,
    search_each,
    search_together,
)

if TYPE_CHECKING:
    from albumfinder.report import SearchHit


def run_search(args: argparse.Namespace) -> int:
    """Search the album (only photos under its folders) with each query, or all together."""
    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    crop = parse_crop(args.crop)
    filters = parse_filters(args)
    plan = plan_queries(args.queries)
    negatives = plan_negatives(args.negatives)
    if not plan.photos:
        return nothing_to_answer(args, plan)
    with loading.open_library() as library:
        model = loading.embedder(args, library)
        answers = Answers(model.spec.name, skipped=plan.skipped)
        if not library.album_photo_count(model.model_key):
            answers.errors.append(
                f"nothing in the album is indexed with {model.spec.name} yet: "
                "run `albumfinder-cli index FOLDER` first"
            )
            answers.failed = plan.failed
            return report(args, answers)

        def search(photos: list[str]) -> list[SearchHit]:
            return library.search(  # the model loads if a query needs it
                model,
                query_of(photos, negatives, crop),
                n=args.num,
                folders=args.folder,
                filters=filters,
            )

        if args.together:
            block = block_of(list(plan.photos), negatives, crop)
            search_together(plan, answers, block, lambda: search(plan.photos))
        else:
            search_each(
                plan,
                answers,
                lambda query: search([query]),
                starts=lambda query: block_of(query, negatives, crop),
            )
    answers.failed = plan.failed + answers.failed
    return report(args, answers)

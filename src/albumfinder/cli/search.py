"""``albumfinder-cli search QUERY…``: search the indexed album with each query photo."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from albumfinder.cli import loading
from albumfinder.cli.output import Answers, CliError, report
from albumfinder.cli.queries import nothing_to_answer, plan_queries, search_each

if TYPE_CHECKING:
    from albumfinder.report import SearchHit


def run_search(args: argparse.Namespace) -> int:
    """Search the album (only photos under its folders) with each query."""
    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    plan = plan_queries(args.queries)
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

        def search(query: str) -> list[SearchHit]:
            return library.search(  # the model loads if a query needs it
                model,
                query,
                n=args.num,
                folders=args.folder,
            )

        search_each(plan, answers, search)
    answers.failed = plan.failed + answers.failed
    return report(args, answers)

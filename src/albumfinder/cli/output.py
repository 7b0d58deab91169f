"""What the command line prints: one JSON object on stdout (``--json``), or tables on stdout,
and messages, progress and errors on stderr. The CLI words its own advice here."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from albumfinder.errors import AlbumFinderError, Hint, Hinted

if TYPE_CHECKING:
    from albumfinder.report import IndexReport


class CliError(AlbumFinderError):
    """A problem the command line itself finds (a bad option value): one line, status 1."""


class UsageError(Exception):
    """A command line argparse refuses (exit status 2)."""


class _Stdout:
    """Whether this run has printed its JSON object yet (there is only one)."""

    json_sent = False


def start_run() -> None:
    _Stdout.json_sent = False


def emit_json(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    _Stdout.json_sent = True


def say(text: str) -> None:
    """A line on stderr; the core's hinted words (why a default was not used) with the
    CLI's advice for their hint."""
    if isinstance(text, Hinted) and text.hint is Hint.GET_WEIGHTS:
        text = with_advice(text, text.model)
    print(text, file=sys.stderr)


def get_weights_advice(model: str) -> str:
    return f"Run `albumfinder-cli models --download {model}` or pass -p PATH."


def with_advice(text: str, model: str | None) -> str:
    """``text`` and how to get ``model``'s weights on the command line (once)."""
    if model is None or "models --download" in text:
        return text
    return f"{text.rstrip('.')}. {get_weights_advice(model)}"


def error_text(error: AlbumFinderError) -> str:
    """An error in the CLI's words: the core's message, plus the CLI's advice for its hint."""
    if error.hint == Hint.GET_WEIGHTS:
        return with_advice(error.message, error.model)
    if error.hint == Hint.REMOVE_FOLDER:  # the command line has no remove: the window does
        return f"{error.message.rstrip('.')} (Album Finder's window: select it, Remove)."
    return error.message


def fail(args: argparse.Namespace, text: str, status: int = 1) -> int:
    """One error line on stderr; with ``--json`` also the one JSON object on stdout."""
    say(f"albumfinder-cli: error: {text}" if status == 1 else f"albumfinder-cli: {text}.")
    if getattr(args, "json", False) and not _Stdout.json_sent:
        emit_json({"error": text})
    return status


def failure(query: str, error: str) -> dict:
    return {"query": query, "error": error}


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


def report(args: argparse.Namespace, answers: Answers) -> int:
    """Print the answers (JSON or table); exit status 0 only when every query was answered."""
    if args.json:
        emit_json(answers.to_json())
    else:
        _print_table(answers)
        print_skips(answers.skipped, answers.known_skips)
    _print_failures(answers)
    return 0 if answers.complete else 1


def _print_failures(answers: Answers) -> None:
    """Each query that got no answer, with its reason, and other errors: on stderr."""
    for item in answers.failed:
        say(f"albumfinder-cli: error: {item['error']}")
    for error in answers.errors:
        say(f"albumfinder-cli: error: {error}")
    if answers.failed and answers.queries:
        asked = len(answers.queries) + len(answers.failed)
        say(f"albumfinder-cli: {len(answers.failed)} of {asked} queries were not answered.")


def _print_table(answers: Answers) -> None:
    for block in answers.queries:
        print(f"Query: {query_title(block)}")
        if not block["results"]:
            print("  (no indexed photos to compare with)")
        else:
            print(f"  {'rank':>4}  {'score':>6}  path")
        for rank, hit in enumerate(block["results"], start=1):
            print(f"  {rank:>4}  {hit['score']:>6.3f}  {hit['path']}")
        if "picture" in block:
            print(f"  Result picture: {block['picture']}")


def query_title(block: dict) -> str:
    """A query's entry in words: its photo(s), the photos it is not like, its region."""
    query = block["query"]
    title = " + ".join(query) if isinstance(query, list) else query
    if block.get("not"):
        title += ", not " + " + ".join(block["not"])
    if "crop" in block:
        title += " (region " + ",".join(f"{v:g}" for v in block["crop"]) + ")"
    return title


def print_skips(skipped: list[dict], known: int, stream: TextIO | None = None) -> None:
    """Each photo skipped for the first time, then a count of those skipped before."""
    stream = stream or sys.stderr
    for item in skipped[: len(skipped) - known]:
        print(f"Skipped {item['path']}: {item['reason']}", file=stream)
    if known:
        print(
            f"{known:,} photos skipped as in earlier runs (list them: albumfinder-cli status).",
            file=stream,
        )


def split_skips(report: IndexReport, known: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """The report's skips: (new in this run, known before: the same photo with the same
    reason recorded in the index before the run)."""
    new: list[dict] = []
    old: list[dict] = []
    for s in report.skipped:
        (old if known.get(s.path) == s.reason else new).append({"path": s.path, "reason": s.reason})
    return new, old

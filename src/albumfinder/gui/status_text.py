"""The status bar's words for an index run: its progress and how it ended."""

from __future__ import annotations

from albumfinder.report import IndexProgress, IndexReport, duration_text


def duration(seconds: float | None) -> str:
    said = duration_text(seconds)
    return f"about {said} left" if said else ""


def scanning_text(p: IndexProgress) -> str:
    found = f" {p.done:,} found" if p.done else ""
    return f"Looking for photos…{found}"


def embedding_text(p: IndexProgress) -> str:
    parts = [f"Indexing {p.done:,} of {p.total:,} photos"]
    if p.rate > 0:
        parts.append(f"{p.rate:.1f} photos/s")
    if p.done < p.total and (left := duration(p.eta_s)):
        parts.append(left)
    return " · ".join(parts)


def finished_text(report: IndexReport) -> str:
    changed = report.added + report.updated
    if report.cancelled:
        text = f"Indexing cancelled. {changed:,} new photos were kept; Rescan resumes."
    elif changed or report.removed:
        text = f"Index up to date: {changed:,} photos indexed in {report.seconds:.0f} s"
        if report.removed:
            text += f", {report.removed:,} removed"
    else:
        text = "Index up to date"
    if report.skipped:
        text += f" · {len(report.skipped):,} skipped"
    return text

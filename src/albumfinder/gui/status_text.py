"""The status bar's words for an index run: its progress and how it ended."""

from __future__ import annotations

from albumfinder.report import IndexProgress, IndexReport


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"about {max(seconds, 1)} s left"
    if seconds < 3600:
        return f"about {seconds // 60} min {seconds % 60:02d} s left"
    return f"about {seconds // 3600} h {seconds % 3600 // 60:02d} min left"


def scanning_text(p: IndexProgress) -> str:
    found = f" {p.done:,} found" if p.done else ""
    return f"Looking for photos…{found}"


def embedding_text(p: IndexProgress) -> str:
    parts = [f"Indexing {p.done:,} of {p.total:,} photos"]
    if p.rate > 0:
        parts.append(f"{p.rate:.1f} photos/s")
    if p.eta_s is not None and p.done < p.total:
        parts.append(duration(p.eta_s))
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

"""What the window says about a core error: one place that words the GUI's advice from an
:class:`~albumfinder.errors.AlbumFinderError`'s fields (the CLI words its own)."""

from __future__ import annotations

from albumfinder.errors import AlbumFinderError, FetchCancelled, Hint, WeightsError

#: The window's way to get weights (the CLI says ``models --download`` or ``-p PATH``).
GET_WEIGHTS = "Get its weights from the model chooser: Download, or Choose a File… if you have it."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def reason(exc: BaseException) -> str:
    """The words for people the core put on ``exc`` (its ``reason`` when it has one)."""
    said = getattr(exc, "reason", None)
    return str(said) if said else (str(exc) or type(exc).__name__)


def needs_weights(exc: BaseException) -> bool:
    return isinstance(exc, WeightsError) or (
        isinstance(exc, AlbumFinderError) and exc.hint is Hint.GET_WEIGHTS
    )


def in_words(exc: BaseException) -> str:
    """``exc`` as the window shows it: the core's words, and advice the window can act on."""
    if isinstance(exc, AlbumFinderError):
        if needs_weights(exc):
            return f"{_sentence(reason(exc))} {GET_WEIGHTS}"
        if exc.hint is Hint.REMOVE_FOLDER:
            return f"{_sentence(reason(exc))} Select it in the album list, then Remove."
        return reason(exc)
    return str(exc) or type(exc).__name__  # an OSError from a folder, say: its own words


def is_superseded(exc: BaseException) -> bool:
    """A fetch stopped because a newer drop took its place: nothing to tell."""
    return isinstance(exc, FetchCancelled)

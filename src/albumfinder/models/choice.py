"""Which model to use when none is named: DINOv2 small when its weights are here or can
be fetched, else the built-in model. No torch here, so that choosing a model (for a rescan
that may need none) costs nothing; :mod:`albumfinder.embedder` re-exports these.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from albumfinder import paths
from albumfinder.models.registry import MODELS, ModelSpec, get_spec
from albumfinder.models.weights import download_url, find_weights

DEFAULT_MODEL = "dinov2-small"


def can_download(spec: ModelSpec, timeout: float = 3.0) -> bool:
    """A quick HEAD request: can the weights be fetched from here right now?"""
    url = download_url(spec)
    if paths.downloads_off() or not url:
        return False
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 400
    except (OSError, ValueError):
        return False


def _spec_for_file(model_path: str | os.PathLike[str] | None) -> ModelSpec | None:
    """The DINOv2 model whose official file name ``model_path`` has, if any."""
    if not model_path:
        return None
    name = Path(model_path).name
    return next((s for s in MODELS.values() if s.weights_filename == name), None)


def default_model_name(
    model_path: str | os.PathLike[str] | None = None, *, allow_download: bool = True
) -> tuple[str, str | None]:
    """(model name, None), or ("builtin", why DINOv2 is not used and how to get it).

    DINOv2 small when its weights are here, or (``allow_download``) can be fetched: the
    check is one HEAD request of at most 3 s, skipped when ALBUMFINDER_OFFLINE=1.
    """
    named = _spec_for_file(model_path)
    if named is not None and Path(model_path or "").expanduser().is_file():
        return named.name, None
    spec = get_spec(DEFAULT_MODEL)
    if find_weights(spec, model_path) is not None:
        return spec.name, None
    how = f"Run `albumfinder-cli models --download {spec.name}` or pass -p PATH."
    if model_path:
        return "builtin", (
            f"No DINOv2 weights ({spec.weights_filename}) found at {model_path}; using the "
            f"built-in model. {how}"
        )
    if not allow_download:
        return "builtin", f"DINOv2 weights not found; using the built-in model. {how}"
    if paths.downloads_off():
        return "builtin", (
            f"DINOv2 weights not found and downloads are off ({paths.OFFLINE_ENV}); using the "
            f"built-in model. {how}"
        )
    if can_download(spec):
        return spec.name, None
    return "builtin", (
        "DINOv2 weights not found and could not be downloaded (offline); using the built-in "
        f"model. {how}"
    )

"""Which model to use, decided without importing torch.

The default-model decision lives here, once: DINOv2 small when its weights are here or can
be fetched, else the built-in model, with the reason. A failed reach of the download server
is remembered for a while, so an offline machine does not wait for the network on every run.
(:class:`albumfinder.lazy_embedder.LazyEmbedder` loads the chosen model only when needed.)
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
from pathlib import Path

from albumfinder import paths
from albumfinder.models.registry import MODELS, ModelSpec, get_spec
from albumfinder.models.weights import download_url, find_weights

DEFAULT_MODEL = "dinov2-small"


#: after a failed reach of the download server, runs within this many seconds do not try
#: again (offline, every CLI run would otherwise wait for the network first)
UNREACHABLE_MEMORY_S = 30 * 60
UNREACHABLE_FILE = "download-unreachable.json"


def _unreachable_record() -> Path:
    return paths.cache_dir() / UNREACHABLE_FILE


def _failed_recently(url: str) -> bool:
    try:
        record = json.loads(_unreachable_record().read_text(encoding="utf-8"))
        age = time.time() - float(record["at"])
        return record.get("url") == url and 0 <= age < UNREACHABLE_MEMORY_S
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _remember_reach(url: str, reached: bool) -> None:
    record = _unreachable_record()
    with contextlib.suppress(OSError):
        if reached:
            record.unlink(missing_ok=True)
        else:
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps({"url": url, "at": time.time()}), encoding="utf-8")


def can_download(spec: ModelSpec, timeout: float = 1.5) -> bool:
    """A quick HEAD request: can the weights be fetched from here right now?

    A failure is remembered for :data:`UNREACHABLE_MEMORY_S` in the cache folder, so an
    offline machine pays for the check once, not on every run.
    """
    url = download_url(spec)
    if paths.downloads_off() or not url or _failed_recently(url):
        return False
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reached = 200 <= response.status < 400
    except (OSError, ValueError):
        reached = False
    _remember_reach(url, reached)
    return reached


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
    check is one HEAD request of at most 1.5 s, skipped when ALBUMFINDER_OFFLINE=1 or when
    it failed in the last half hour (:func:`can_download`).
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
        "DINOv2 weights not found and the download server could not be reached (offline?; "
        f"not tried again for {UNREACHABLE_MEMORY_S // 60} minutes); using the built-in "
        f"model. {how}"
    )

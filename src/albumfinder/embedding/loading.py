"""Which model to use and loading it: the default model, :func:`load_embedder`, the
process-wide cache of loaded models, and :class:`LazyEmbedder`.

The default-model decision lives here, once: DINOv2 small when its weights are here or can
be fetched, else the built-in model, with the reason. A failed reach of the download server
is remembered for a while, so an offline machine does not wait for the network on every run.

No torch at import: a rescan of an unchanged album, or a search of indexed photos, needs
only the model's name, and :class:`LazyEmbedder` loads the model when a photo needs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albumfinder import paths
from albumfinder.errors import WEIGHTS_NOT_FOUND, Hint, Hinted, WeightsError
from albumfinder.models.registry import LISTED_MODELS, MODELS, ModelSpec, get_spec
from albumfinder.models.weights import download_url, download_weights, find_weights
from albumfinder.report import ModelRow

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder

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
            reached = bool(200 <= response.status < 400)
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
    """(model name, None), or ("builtin", why DINOv2 is not used): a :class:`~albumfinder.
    errors.Hinted` saying "get its weights", which each face words (the CLI: its command).

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

    def fallback(why: str) -> tuple[str, str | None]:
        return "builtin", Hinted(
            f"{why}; using the built-in model.", hint=Hint.GET_WEIGHTS, model=spec.name
        )

    if model_path:
        return fallback(f"No DINOv2 weights ({spec.weights_filename}) found at {model_path}")
    if not allow_download:
        return fallback("DINOv2 weights not found")
    if paths.downloads_off():
        return fallback(f"DINOv2 weights not found and downloads are off ({paths.OFFLINE_ENV})")
    if can_download(spec):
        return spec.name, None
    return fallback(
        "DINOv2 weights not found and the download server could not be reached (offline?; "
        f"not tried again for {UNREACHABLE_MEMORY_S // 60} minutes)"
    )


# ---------------------------------------------------------------------------- loading


def load_embedder(
    model_name: str | None = None,
    *,
    model_path: str | os.PathLike[str] | None = None,
    device: str | None = None,
    precision: str = "auto",
    allow_download: bool = True,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> Embedder:
    """Load ``model_name`` (None: :func:`default_model_name`) ready to embed: the device
    (CUDA, MPS, else CPU), the precision and the number of CPU threads chosen here.

    Raises :class:`WeightsError` (weights missing, unreachable or not right) or ValueError
    (unknown model, device or precision), each with a message meant for the user.
    """
    from albumfinder.embedding.device import configure_threads, pick_device, resolve_precision
    from albumfinder.embedding.embedder import Embedder
    from albumfinder.models import build_model
    from albumfinder.models.checking import load_state_dict

    say = log or (lambda _message: None)
    if model_name is None:
        model_name, reason = default_model_name(model_path, allow_download=allow_download)
        if reason:
            say(reason)
    spec = get_spec(model_name)
    device = pick_device(device)
    chosen = resolve_precision(precision, device, spec)
    configure_threads(say)
    path = find_weights(spec, model_path)
    if path is None:
        if not allow_download or not download_url(spec) or paths.downloads_off():
            where = f" at {model_path}" if model_path else ""
            off = f" and downloads are off ({paths.OFFLINE_ENV})" if allow_download else ""
            raise WeightsError(
                f"no weights for {spec.name} found{where}{off}",
                WEIGHTS_NOT_FOUND,
                model=spec.name,
                hint=Hint.GET_WEIGHTS,
            )
        say(f"Downloading {spec.title} weights ({(spec.weights_bytes or 0) / 1e6:.0f} MB)…")
        path = download_weights(spec, progress=progress, should_stop=should_stop)
    model = build_model(spec, load_state_dict(spec, path))
    if (precision or "auto").lower() == "auto":  # measured once per machine, then remembered
        from albumfinder.embedding.calibration import auto_precision

        chosen = auto_precision(spec, device, model, chosen, log=say)
    return Embedder(spec, model, device=device, precision=chosen)


def model_rows(model_path: str | os.PathLike[str] | None = None) -> list[ModelRow]:
    """Every model with whether its weights are here: the listed ones first, in the order
    the faces offer them."""
    from albumfinder.embedding.calibration import remembered

    listed = LISTED_MODELS
    rows = []
    for spec in map(get_spec, [*listed, *(name for name in MODELS if name not in listed)]):
        found = find_weights(spec, model_path)
        url = download_url(spec)
        calibration = remembered(spec, "cpu")
        rows.append(
            ModelRow(
                name=spec.name,
                title=spec.title,
                dim=spec.dim,
                weights_present=found is not None,
                download_bytes=spec.weights_bytes if url else None,
                listed=spec.name in listed,
                weights_path=str(found) if found is not None else None,
                download_url=url,
                calibration=calibration,
            )
        )
    return rows


_CACHE: dict[tuple[Any, ...], Embedder] = {}
_CACHE_LOCK = threading.Lock()
_LOADING: dict[tuple[Any, ...], threading.Lock] = {}


def cached_embedder(
    name: str,
    model_path: str | os.PathLike[str] | None = None,
    *,
    device: str | None = None,
    precision: str = "auto",
    allow_download: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Embedder:
    """A loaded model, kept for the life of the process (loaded once, whichever thread
    asks first; its weights downloaded first only with ``allow_download``).

    Kept per weights file (path, size, mtime): weights that were replaced or removed since
    are looked for again, not served from memory.
    """
    found = find_weights(get_spec(name), model_path)
    try:
        info = os.stat(found) if found is not None else None
    except OSError:
        info = None
    stamp = (info.st_size, info.st_mtime_ns) if info is not None else None
    path = str(model_path) if model_path is not None else None
    key = (name, path, str(found), stamp, device, precision)
    with _CACHE_LOCK:
        embedder = _CACHE.get(key)
        if embedder is not None:
            return embedder
        loading = _LOADING.setdefault(key, threading.Lock())
    # Loaded outside the cache's lock: queries on a loaded model never wait for another
    # model being loaded (a model change can take seconds).
    with loading:
        with _CACHE_LOCK:
            embedder = _CACHE.get(key)
        if embedder is None:
            embedder = load_embedder(
                name,
                model_path=path,
                device=device,
                precision=precision,
                allow_download=allow_download,
                progress=progress,
            )
            with _CACHE_LOCK:
                _CACHE[key] = embedder
        return embedder


# ---------------------------------------------------------------------------- lazy


class LazyEmbedder:
    """Stands in for an :class:`~albumfinder.embedding.embedder.Embedder` until :meth:`get`.

    What a search or a rescan needs before embedding (the model's key, its decode size)
    comes from the spec; any other attribute loads the model, so it can be passed wherever
    an Embedder goes. A search whose queries are all indexed photos never loads the model
    (nor torch: about 1.5 s of a CLI run)."""

    def __init__(self, model: str | ModelSpec, load: Callable[[], Embedder]) -> None:
        self.spec = get_spec(model) if isinstance(model, str) else model
        self._load = load
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    @classmethod
    def named(
        cls,
        name: str | None,
        load: Callable[[str], Embedder],
        model_path: str | os.PathLike[str] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> LazyEmbedder:
        """``name``, or (None) the default model as :func:`load_embedder` chooses it, saying
        why when it falls back; ``load(name)`` loads it."""
        if name is None:
            name, reason = default_model_name(model_path)
            if reason and log is not None:
                log(reason)
        chosen = name
        return cls(chosen, lambda: load(chosen))

    @property
    def model_key(self) -> str:
        return self.spec.key

    @property
    def decode_size(self) -> int:
        return self.spec.input_size

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_load", "_embedder", "_lock", "spec"):
            raise AttributeError(name)
        return getattr(self.get(), name)

    def get(self) -> Embedder:
        """The loaded model (loaded the first time, once, whichever thread asks)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._load()
            return self._embedder


def loaded(embedder: Embedder | LazyEmbedder) -> Embedder:
    return embedder.get() if isinstance(embedder, LazyEmbedder) else embedder

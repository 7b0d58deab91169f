"""Finding and downloading model weights (checking them: :mod:`albumfinder.models.checking`).

A download streams into a temporary file and is put in place only once its tensors check
out, so :func:`find_weights` never picks up a partial or wrong file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from albumfinder import fetch, paths
from albumfinder.errors import DownloadCancelled, FetchCancelled, FetchError, Hint, WeightsError
from albumfinder.models.checking import checked_state, remember
from albumfinder.models.registry import ModelSpec

STALL_S = 30.0  # a download that gets no byte for this long is given up
STALE_PART_S = 10 * STALL_S  # a .part file untouched for this long belongs to no live download
USER_AGENT = "AlbumFinder (model download)"
#: A base address that serves the same files as Meta's (a company mirror, a local copy):
#: ``$ALBUMFINDER_WEIGHTS_MIRROR/dinov2_vits14/dinov2_vits14_pretrain.pth``.
MIRROR_ENV = "ALBUMFINDER_WEIGHTS_MIRROR"


# ---------------------------------------------------------------------------- finding


def _packaged_file(spec: ModelSpec) -> Path:
    """The weights file that ships in ``spec``'s family's package."""
    getter = spec.traits.weights_file_getter
    assert getter is not None, f"{spec.family} has no packaged weights"
    module, _, attribute = getter.partition(":")
    where: Any = functools.reduce(getattr, attribute.split("."), importlib.import_module(module))
    return Path(where())


def _candidates(spec: ModelSpec, model_path: str | os.PathLike[str] | None) -> list[Path]:
    name = spec.weights_filename or ""
    traits = spec.traits
    found: list[Path] = []
    if model_path and Path(model_path).expanduser().exists():
        path = Path(model_path).expanduser()
        if path.is_file():
            prefix = traits.own_file_prefix
            if prefix is not None and not path.name.startswith(prefix):
                # -p names another model's file: not for us
                return [_packaged_file(spec)] if traits.packaged else []
            return [path]
        # A folder holding the file, or a torch-hub repo folder such as
        # ~/.cache/torch/hub/facebookresearch_dinov2_main whose checkpoints sit in ../checkpoints.
        found += [path / name, path / "checkpoints" / name, path.parent / "checkpoints" / name]
    if traits.packaged:
        found.append(_packaged_file(spec))
    else:
        found += [paths.weights_dir() / name, paths.torch_hub_checkpoints_dir() / name]
    return found


def find_weights(spec: ModelSpec, model_path: str | os.PathLike[str] | None = None) -> Path | None:
    """The weights file for ``spec``, or None when there is none here.

    ``model_path`` may be the .pth file itself, a folder holding ``spec.weights_filename``, or
    a torch-hub repo folder as dinov2_retrieval's ``-p`` takes it. The usual places (our
    weights folder, then torch hub's checkpoint cache) are looked at as well, except when
    ``model_path`` names a file: then that file or nothing. The built-in model's file ships
    in its package and is found whatever ``model_path`` says.
    """
    packaged = spec.traits.packaged
    if model_path and not packaged and not Path(model_path).expanduser().exists():
        return None
    for path in _candidates(spec, model_path):
        if path.name and path.is_file():
            return path
    return None


def weights_available(spec: ModelSpec, model_path: str | os.PathLike[str] | None = None) -> bool:
    return find_weights(spec, model_path) is not None


# ---------------------------------------------------------------------------- downloading


def download_weights(
    spec: ModelSpec,
    *,
    url: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Download ``spec``'s weights into :func:`paths.weights_dir` and return the file.

    Streams into a temporary file beside the target and renames it into place only once it
    is complete and its tensors check out, so an interrupted, cancelled or failed download
    never leaves a partial file where :func:`find_weights` would pick it up.
    ``progress(done, total)`` gets byte counts (total 0 when the server does not say).
    """
    url = url or download_url(spec)
    if not url or not spec.weights_filename:
        raise WeightsError(f"{spec.name} has no download address", model=spec.name)
    folder = paths.weights_dir()
    target = folder / spec.weights_filename
    host = urllib.parse.urlsplit(url).netloc or url
    remove_stale_parts(folder)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _stream(url, out, host, spec, folder, progress, should_stop)
        checked_state(spec, tmp)  # refuses a wrong or damaged file before it is in place
        os.chmod(tmp, 0o644)  # mkstemp made it private; it is an ordinary cache file
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    remember(target, digest)
    return target


def download_url(spec: ModelSpec) -> str | None:
    """The address of ``spec``'s weights (Meta's), or the same file on the mirror, if set."""
    mirror = os.environ.get(MIRROR_ENV, "").strip().rstrip("/")
    url = spec.weights_url
    base = spec.traits.download_base
    if mirror and url and base and url.startswith(base + "/"):
        return mirror + url[len(base) :]
    return url


def remove_stale_parts(folder: Path | None = None, age_s: float = STALE_PART_S) -> None:
    """Delete what killed downloads left in the weights folder. A live download writes at
    least every :data:`STALL_S` (or stops), so a part file untouched for longer is dead.
    Called at each download and when a :class:`~albumfinder.library.Library` opens."""
    if folder is None:
        try:
            folder = paths.cache_dir() / "weights"
        except OSError:  # no cache folder can be made: nothing to clean either
            return
    now = time.time()
    for part in folder.glob(".*.part"):
        with contextlib.suppress(OSError):
            if now - part.stat().st_mtime > age_s:
                part.unlink()


def _stream(
    url: str,
    out: Any,
    host: str,
    spec: ModelSpec,
    folder: Path,
    progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> str:
    """Copy the response into ``out``; return its sha256. Cancel is honoured within a
    second, even while the server sends nothing (see :mod:`albumfinder.fetch`)."""
    digest = hashlib.sha256()
    done = 0
    try:
        with fetch.open_url(
            url,
            deadline_s=None,  # gigabytes on a slow line take long; a stall does not
            stall_s=STALL_S,
            should_stop=should_stop,
            public_only=False,  # a mirror in the local network is allowed
            user_agent=USER_AGENT,
        ) as response:
            total = response.total
            _check_space(folder, total or spec.weights_bytes or 0)
            if progress:
                progress(0, total)
            for chunk in response.chunks():
                _write(out, chunk, spec, host, folder)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except FetchCancelled as exc:
        raise DownloadCancelled(
            f"download of {spec.name} cancelled", reason="The download was cancelled."
        ) from exc
    except FetchError as exc:
        raise WeightsError(
            _download_detail(exc, spec, host, url, done),
            reason=exc.reason,
            model=spec.name,
            hint=Hint.CHECK_CONNECTION if exc.status is None and not done else None,
        ) from exc
    return digest.hexdigest()


def _write(out: Any, chunk: bytes, spec: ModelSpec, host: str, folder: Path) -> None:
    try:
        out.write(chunk)
    except OSError as exc:  # a full disk, a file size limit
        raise WeightsError(
            f"download of {spec.name} from {host} broke off: cannot write to {folder}: "
            f"{exc.strerror or exc}",
            reason=f"The download stopped: the file cannot be written ({exc.strerror or exc}).",
        ) from exc


def _download_detail(exc: FetchError, spec: ModelSpec, host: str, url: str, done: int) -> str:
    """The technical account of a failed download (the CLI's message, the GUI's Details)."""
    if exc.status is not None:
        return f"download of {spec.name} failed: {host} answered {exc.status}"
    if done or "broke off" in exc.reason:
        return f"download of {spec.name} from {host} broke off: {exc.detail}"
    if exc.reason == fetch.NO_CONNECTION or exc.reason == fetch.TOO_SLOW:
        why = exc.detail.removeprefix(f"could not reach {host}: ")
        return (
            f"could not reach {host} to download {spec.name} ({why}); check the "
            f"internet connection, or download {url} yourself and use that file"
        )
    return f"download of {spec.name} failed: {exc.detail}"


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if needed and free < needed + (64 << 20):
        raise WeightsError(
            f"not enough free disk space in {folder}: {needed / 1e6:.0f} MB needed, "
            f"{free / 1e6:.0f} MB free",
            hint=Hint.FREE_DISK,
        )

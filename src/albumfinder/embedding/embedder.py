"""Images in, L2-normalised float32 vectors out: one loaded model on one device.

:meth:`Embedder.prepare` is pure Pillow/numpy and safe to call from decoding threads;
:meth:`Embedder.embed_prepared` runs batched forward passes, one at a time per device.
Importing this module imports torch; :mod:`albumfinder.embedding.loading` makes Embedders.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from albumfinder.embedding.device import (
    AUTOCAST_DTYPES,
    default_batch_size,
    quantize_linear_int8,
    store_linear_weights_in,
)
from albumfinder.embedding.turns import turns_for
from albumfinder.models.registry import ModelSpec, Precision


class Embedder:
    """One loaded model on one device: photos in, unit-length vectors out."""

    def __init__(
        self,
        spec: ModelSpec,
        model: torch.nn.Module,
        device: str = "cpu",
        precision: str = "fp32",
        batch_size: int | None = None,
    ) -> None:
        self.spec = spec
        self.device = device
        self.precision = Precision(precision)
        self.batch_size = batch_size or default_batch_size(spec, device)
        # Photos are squashed to input_size x input_size, so a JPEG decoded at a reduced
        # scale only needs both sides at least that large.
        self.decode_size = spec.input_size
        traits = spec.traits
        self._model = model.to(device)
        if device == "cpu" and self.precision is Precision.BF16 and traits.bf16_weights_on_cpu:
            store_linear_weights_in(self._model, torch.bfloat16)
        if self.precision is Precision.INT8:
            self._model = quantize_linear_int8(self._model)
        # One forward pass at a time per device, whichever model runs it (during a model
        # change the old model answers queries while the new one indexes): they share the cores.
        self._turns = turns_for(device)
        mean = torch.tensor(traits.mean) * traits.scale
        std = torch.tensor(traits.std) * traits.scale
        self._mean = mean.reshape(1, 3, 1, 1).to(device)
        self._std = std.reshape(1, 3, 1, 1).to(device)

    @property
    def model_key(self) -> str:
        """The index key: model + preprocessing (all precisions share one set of vectors)."""
        return self.spec.key

    @property
    def dim(self) -> int:
        return self.spec.dim

    def prepare(self, image: Image.Image) -> np.ndarray:
        """The whole photo resized to input_size x input_size (no crop), uint8 HxWx3.

        No torch: safe to call from many decoding threads at once.
        """
        if image.mode != "RGB":
            image = image.convert("RGB")
        size = self.spec.input_size
        if image.size != (size, size):
            # reducing_gap: shrink by a whole factor with a box filter first, then bicubic;
            # much faster on large images and visually the same.
            image = image.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0)
        return np.asarray(image, dtype=np.uint8)

    def embed_prepared(self, arrays: Sequence[np.ndarray], *, urgent: bool = False) -> np.ndarray:
        """(len(arrays), dim) float32 rows of unit length, from :meth:`prepare` outputs.

        ``urgent`` (a query someone waits for) goes before the next batch of any non-urgent
        call (indexing) that shares this embedder.
        """
        if len(arrays) == 0:
            return np.empty((0, self.spec.dim), dtype=np.float32)
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[2] != 3:
            raise ValueError(f"arrays must all be HxWx3 of one size, got {sorted(shapes)}")
        out = []
        for start in range(0, len(arrays), self.batch_size):
            batch = np.stack(arrays[start : start + self.batch_size])
            with self._turns.turn(urgent), torch.inference_mode():
                out.append(self._forward(torch.from_numpy(batch)))
        return np.concatenate(out)

    def timed_batch(self, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
        """One forward pass of ``arrays`` (one batch of :meth:`prepare` outputs): the rows,
        and the seconds the pass took in its turn (the wait for the device not counted),
        which is what calibration measures."""
        batch = torch.from_numpy(np.stack(arrays))
        with self._turns.turn(), torch.inference_mode():
            start = time.perf_counter()
            rows = self._forward(batch)
            return rows, time.perf_counter() - start

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_prepared([self.prepare(image) for image in images])

    def feature_maps(self, arrays: Sequence[np.ndarray], *, urgent: bool = True) -> np.ndarray:
        """(len(arrays), rows, cols, channels) float32: the model's last spatial features of
        each HxWx3 uint8 array (one size, any multiple of the model's stride), each cell
        L2-normalised; row 0 is the top of the picture. DINOv2: the final-norm patch tokens;
        the built-in model: its last convolutional feature map."""
        batch = torch.from_numpy(np.stack(arrays))
        with self._turns.turn(urgent), torch.inference_mode():
            with self._autocast():
                feature_map = cast(Callable[[torch.Tensor], torch.Tensor], self._model.feature_map)
                maps = feature_map(self._normalised(batch))  # (B, C, rows, cols)
            maps = F.normalize(maps.float(), dim=1).permute(0, 2, 3, 1)
        result: np.ndarray = maps.cpu().numpy().astype(np.float32, copy=False)
        return result

    def _normalised(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        return (x - self._mean) / self._std

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        dtype = AUTOCAST_DTYPES.get(self.precision)
        device_type = "cuda" if self.device.startswith("cuda") else self.device
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type, dtype=dtype)

    def _forward(self, batch: torch.Tensor) -> np.ndarray:
        x = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        x = (x - self._mean) / self._std
        dtype = AUTOCAST_DTYPES.get(self.precision)
        device_type = "cuda" if self.device.startswith("cuda") else self.device
        autocast = (
            torch.autocast(device_type, dtype=dtype)
            if dtype is not None
            else contextlib.nullcontext()
        )
        with autocast:
            features = self._model(x)
        features = F.normalize(features.float(), dim=1)
        result: np.ndarray = features.cpu().numpy().astype(np.float32, copy=False)
        return result

"""Image-embedding models: the registry (no torch), the architectures and their weights.

``build_model(spec, state_dict)`` turns checked weights (see :mod:`albumfinder.models.checking`)
into an eval-mode module: ``forward(x)`` takes a float tensor (B, 3, H, W) already normalised
for the model's family and returns (B, dim) features, not yet L2-normalised.

This package's ``__init__`` imports torch only inside its functions, so importing
``albumfinder.models.registry`` stays cheap.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from albumfinder.models.registry import MODELS, SEED_SIZES, ModelSpec, get_spec

if TYPE_CHECKING:
    import torch

__all__ = ["MODELS", "SEED_SIZES", "ModelSpec", "build_model", "expected_shapes", "get_spec"]


def _network(spec: ModelSpec) -> ModuleType:
    """The family's network module (``empty_model``, ``after_load``), named in the registry."""
    return importlib.import_module(spec.traits.network)


def _empty_model(spec: ModelSpec) -> torch.nn.Module:
    model: torch.nn.Module = _network(spec).empty_model(spec)
    return model


def expected_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """Every tensor name and shape a checkpoint for ``spec`` must hold (nothing allocated)."""
    import torch

    with torch.device("meta"):
        model = _empty_model(spec)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def build_model(spec: ModelSpec, state_dict: dict[str, torch.Tensor]) -> torch.nn.Module:
    """The model for ``spec`` with ``state_dict`` loaded, in eval mode, on the CPU.

    The module is built on the meta device and the weights are assigned, not copied: no time
    is spent on random initialisation and no second copy of a 4.5 GB giant model is made.
    """
    import torch

    with torch.device("meta"):
        model = _empty_model(spec)
    model.load_state_dict(state_dict, strict=True, assign=True)
    model.requires_grad_(False)
    model.eval()
    _network(spec).after_load(model)
    return model

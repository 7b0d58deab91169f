"""Random-weight checkpoints in the official formats, for tests that must not download.

The tensors have Meta's names and shapes (175 for DINOv2 small) and magnitudes like the
real ones where it matters: LayerScale well away from 1 and position embeddings large
enough that a wrong interpolation of them shows in the output.
"""

from __future__ import annotations

from pathlib import Path

import torch

from albumfinder.models import ModelSpec, expected_shapes, get_spec


def random_dinov2_state(
    name: str | ModelSpec = "dinov2-small", seed: int = 0
) -> dict[str, torch.Tensor]:
    spec = get_spec(name) if isinstance(name, str) else name
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, shape in expected_shapes(spec).items():
        if key.endswith(".gamma"):  # LayerScale
            tensor = torch.rand(shape, generator=gen) * 0.9 + 0.1
        elif "norm" in key and key.endswith(".weight"):
            tensor = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif key in ("pos_embed", "cls_token", "register_tokens"):
            tensor = torch.randn(shape, generator=gen)
        elif key.endswith(".bias"):
            tensor = 0.02 * torch.randn(shape, generator=gen)
        else:
            fan_in = max(1, int(torch.tensor(shape[1:]).prod())) if len(shape) > 1 else 1
            tensor = torch.randn(shape, generator=gen) / fan_in**0.5
        state[key] = tensor
    return state


def save_dinov2_checkpoint(path: Path, name: str = "dinov2-small", seed: int = 0) -> Path:
    """Write a checkpoint as Meta publishes it: a plain dict of tensors, torch.save'd."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_dinov2_state(name, seed), path)
    return path

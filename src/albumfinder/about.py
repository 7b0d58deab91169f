"""What the About box says of this copy of Album Finder and of the computer it runs on.

Index-free: the version, the CPU and its kind (what decides how "auto" runs a model), each
listed model with the precision "auto" runs it at here and why (measured, or the CPU-flag
rule), and where the app keeps its files. It asks torch about the device (the app has
usually imported it by then, to answer queries).
"""

from __future__ import annotations

import os
import platform

from albumfinder import __version__, paths
from albumfinder.embedding.calibration import auto_mode_words
from albumfinder.embedding.cpu import cpu_flags, cpu_has_bf16, cpu_has_int8_dot, cpu_model_name
from albumfinder.embedding.loading import model_rows
from albumfinder.models.registry import get_spec
from albumfinder.report import AboutFacts


def cpu_kind_words() -> str:
    """ "AVX-512 with bf16", "AVX-512 VNNI (int8, no bf16)", "AVX2 (no bf16, no VNNI)"…"""
    flags = cpu_flags()
    if cpu_has_bf16():
        return "native bf16 (AVX512-BF16 or AMX)"
    if cpu_has_int8_dot():
        return "int8 dot products (VNNI), no native bf16"
    if "avx512f" in flags:
        return "AVX-512, no native bf16 or VNNI"
    if "avx2" in flags:
        return "AVX2, no native bf16 or VNNI"
    return platform.machine() or "unknown"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def about_facts() -> AboutFacts:
    from albumfinder.embedding.device import pick_device

    device = pick_device(None)
    return AboutFacts(
        version=__version__,
        python=platform.python_version(),
        cpu=cpu_model_name(),
        cores=_cores(),
        cpu_kind=cpu_kind_words(),
        models=[
            (row.title, auto_mode_words(get_spec(row.name), device))
            for row in model_rows(None)
            if row.listed
        ],
        locations=[
            ("Index", str(paths.index_path())),
            ("Model weights", str(paths.weights_dir())),
            ("Cache", str(paths.cache_dir())),
            ("Settings", str(paths.config_dir())),
            ("Logs", str(paths.log_dir())),
        ],
    )

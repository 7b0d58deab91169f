"""What this CPU is and can do, read from /proc/cpuinfo (no torch: the faces list the
calibrated modes without importing it).

``ALBUMFINDER_CPUINFO`` names another file to read instead, to run the tests (and the
benchmarks' emulated AVX2 CPU) as another CPU kind would.
"""

from __future__ import annotations

import os
import platform

CPUINFO = "/proc/cpuinfo"  # where Linux says what the CPU can do
#: read the CPU's flags from this file instead (to run the tests as another CPU kind would)
CPUINFO_ENV = "ALBUMFINDER_CPUINFO"
#: the /proc/cpuinfo line that lists the CPU's features: "flags" on x86, "Features" on Arm
FLAG_LINES = ("flags", "Features")
#: the line that names the CPU: "model name" on x86, "Hardware"/"CPU part" on some Arm
NAME_LINES = ("model name", "Hardware", "CPU part")
#: what holds the kernels to AVX2 on a CPU that has more, to measure and test as an ordinary
#: AVX2 CPU runs: torch's own kernels, oneDNN, fbgemm (int8) and MKL, whose BLAS does torch's
#: fp32 matmuls (without it they keep AVX-512 and AMX). Set before torch is imported.
AVX2_LIMITS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}


def _cpuinfo_first(names: tuple[str, ...]) -> str | None:
    """The value of the first line of ``names`` in cpuinfo (the first processor's)."""
    try:
        with open(os.environ.get(CPUINFO_ENV) or CPUINFO, encoding="ascii", errors="replace") as f:
            for line in f:
                name, colon, value = line.partition(":")
                if colon and name.strip() in names:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (x86's "flags", Arm's "Features"; the
    first processor's), empty where it does not."""
    return frozenset((_cpuinfo_first(FLAG_LINES) or "").split())


def cpu_model_name() -> str:
    """The CPU's model name ("Intel(R) Xeon(R) …"); the platform's word where cpuinfo has none."""
    return _cpuinfo_first(NAME_LINES) or platform.processor() or platform.machine() or "unknown"


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), read at run time.
    Arm's "bf16" is not counted: bf16 on Arm CPUs was not measured, so they run fp32."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_has_int8_dot() -> bool:
    """Whether this x86 CPU has int8 dot-product instructions (VNNI), which make dynamic
    int8 pay off. Without them (a plain AVX2 CPU) int8 ViT-S/14 ran at 1.04x fp32 model-only
    and 0.8x end to end, so fp32 is used there. Arm's dot product ("asimddp") is not
    counted: torch runs int8 there with other kernels (QNNPACK), which were not measured, so
    Arm CPUs run fp32."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})

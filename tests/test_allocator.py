"""Forward passes reuse freed memory instead of page-faulting it in again (glibc)."""

import subprocess
import sys

import pytest

from albumfinder.allocator import keep_freed_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")

# Passes of the real built-in model in a worker thread, as in the app; prints the minor
# page faults of the last pass.
FAULTS_PER_PASS = """
import resource, threading
import numpy as np
import albumfinder
from albumfinder.embedder import load_embedder

embedder = load_embedder("builtin", allow_download=False)
arrays = [np.random.default_rng(i).integers(0, 255, (224, 224, 3), dtype=np.uint8)
          for i in range(embedder.batch_size)]
faults = []

def passes():
    for _ in range(4):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        embedder.embed_prepared(arrays)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

worker = threading.Thread(target=passes)
worker.start()
worker.join()
print(albumfinder.MALLOC_TUNED, faults[-1])
"""


def _faults(env_extra: dict[str, str]) -> tuple[str, int]:
    import os

    env = {**os.environ, **env_extra}
    out = subprocess.run(
        [sys.executable, "-c", FAULTS_PER_PASS], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    tuned, faults = out.stdout.split()
    return tuned, int(faults)


def test_forward_passes_do_not_page_fault_their_buffers_again():
    if not keep_freed_memory():
        pytest.skip("not glibc")
    tuned, faults = _faults({})
    # a pass of the built-in model needs ~40 MB of activations: ~10,000 faults if not reused
    assert (tuned, faults < 500) == ("True", True), faults
    # a user's own malloc setting wins (and shows what the tuning saves)
    untuned, untuned_faults = _faults({"MALLOC_ARENA_MAX": "8"})
    assert untuned == "False"
    assert untuned_faults > faults + 2000

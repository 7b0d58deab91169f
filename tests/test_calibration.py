"""Calibrated "auto" (issue 15, target 1): measured once per machine, model and device,
remembered, measured again when the machine changes, never choosing a mode too far from fp32.

The CPU is always a fake cpuinfo (no test depends on the CPU it runs on); the speeds are
measured for real, so the tests check how the choice follows from the figures, not which
mode wins here.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from albumfinder import paths
from albumfinder.cli import main
from albumfinder.embedding import calibration
from albumfinder.embedding.calibration import auto_precision, calibrate, choose_mode, remembered
from albumfinder.embedding.loading import load_embedder
from albumfinder.models import build_model, get_spec
from albumfinder.models.registry import Precision
from albumfinder.report import ModeFigures

from cli_support import run_json
from helpers_models import random_dinov2_state, save_dinov2_checkpoint

BF16_VNNI = "fpu sse sse2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16"
#: a two-block ViT-S/14: the real network's layers, at a fraction of the cost
TINY = dataclasses.replace(get_spec("dinov2-small"), name="dinov2-tiny-test", depth=2)


@pytest.fixture
def fake_cpu(tmp_path, monkeypatch):
    """Point the CPU probe at a fake cpuinfo; returns a function that rewrites it."""
    cpuinfo = tmp_path / "cpuinfo"

    def write(name: str = "Test CPU 9000", flags: str = BF16_VNNI) -> None:
        cpuinfo.write_text(f"processor\t: 0\nmodel name\t: {name}\nflags\t\t: {flags}\n")

    write()
    monkeypatch.setenv("ALBUMFINDER_CPUINFO", str(cpuinfo))
    return write


def tiny_model() -> torch.nn.Module:
    return build_model(TINY, random_dinov2_state(TINY))


def stored() -> dict:
    return json.loads((paths.cache_dir() / calibration.CALIBRATION_FILE).read_text())


def test_the_fastest_valid_mode_is_chosen_never_one_too_far_from_fp32():
    figures = [
        ModeFigures("fp32", 10.0, 1.0, True),
        ModeFigures("bf16", 20.0, 0.9995, True),
        ModeFigures("int8", 30.0, 0.99, False),  # fastest, but its vectors are off
    ]
    assert choose_mode(figures) == "bf16"
    slow = [ModeFigures("fp32", 10.0, 1.0, True), ModeFigures("int8", 9.0, 0.9999, True)]
    assert choose_mode(slow) == "fp32"  # never slower than fp32
    # a gain within the margin is not worth it (lost end to end on a plain AVX2 CPU)
    marginal = [ModeFigures("fp32", 10.0, 1.0, True), ModeFigures("int8", 10.5, 0.9999, True)]
    assert choose_mode(marginal) == "fp32"


def test_a_mode_below_the_cosine_bar_is_measured_but_never_chosen(fake_cpu):
    """int8 held to a bar no quantised model reaches: it is measured, marked invalid, and
    fp32 is chosen however fast int8 ran."""
    result = calibrate(
        TINY, "cpu", tiny_model(), [Precision.FP32, Precision.INT8], min_cosine=0.999999999
    )
    by_mode = {f.mode: f for f in result.figures}
    assert by_mode["int8"].cosine < 0.999999999 and not by_mode["int8"].valid
    assert by_mode["int8"].photos_per_s > 0
    assert result.chosen == "fp32"


def test_auto_measures_once_remembers_and_measures_again_when_the_machine_changes(
    fake_cpu, monkeypatch
):
    monkeypatch.setenv(calibration.CALIBRATE_ENV, "now")
    chosen = auto_precision(TINY, "cpu", tiny_model(), Precision.BF16)
    entry = stored()[f"{TINY.key}@cpu"]
    figures = {f["mode"]: f for f in entry["figures"]}
    assert set(figures) == {"fp32", "bf16", "int8"}  # what this (fake) CPU computes well
    fastest = max((f for f in figures.values() if f["valid"]), key=lambda f: f["photos_per_s"])
    assert chosen.value == entry["chosen"] == fastest["mode"]
    assert entry["machine"]["cpu"] == "Test CPU 9000"
    assert entry["machine"]["torch"] == torch.__version__.split("+")[0]

    # remembered: the next load uses the record (here rewritten to say int8) and measures nothing
    entry["chosen"] = "int8"
    (paths.cache_dir() / calibration.CALIBRATION_FILE).write_text(
        json.dumps({f"{TINY.key}@cpu": entry})
    )
    assert auto_precision(TINY, "cpu", tiny_model(), Precision.BF16) is Precision.INT8
    assert stored()[f"{TINY.key}@cpu"]["measured_at"] == entry["measured_at"]

    # another torch version made the record: measured again
    stale = {**entry, "machine": {**entry["machine"], "torch": "1.13.0"}}
    (paths.cache_dir() / calibration.CALIBRATION_FILE).write_text(
        json.dumps({f"{TINY.key}@cpu": stale})
    )
    assert remembered(TINY) is None
    auto_precision(TINY, "cpu", tiny_model(), Precision.BF16)
    again = stored()[f"{TINY.key}@cpu"]
    assert again["measured_at"] > entry["measured_at"]
    assert again["machine"]["torch"] == entry["machine"]["torch"]

    # another CPU (the same disk in another machine): measured again, for that CPU
    fake_cpu(name="Other CPU", flags=BF16_VNNI.replace(" avx512_bf16", ""))
    assert remembered(TINY) is None
    auto_precision(TINY, "cpu", tiny_model(), Precision.INT8)
    other = stored()[f"{TINY.key}@cpu"]
    assert other["machine"]["cpu"] == "Other CPU"
    assert {f["mode"] for f in other["figures"]} == {"fp32", "int8"}  # no native bf16 now


def test_a_plain_avx2_cpu_measures_int8_against_fp32(fake_cpu, monkeypatch):
    """No VNNI: the flag rule says fp32, and calibration measures whether int8 pays off."""
    monkeypatch.setenv(calibration.CALIBRATE_ENV, "now")
    fake_cpu(flags="fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c")
    auto_precision(TINY, "cpu", tiny_model(), Precision.FP32)
    assert [f.mode for f in remembered(TINY).figures] == ["fp32", "int8"]


def test_cpu_limits_in_the_environment_are_another_machine(fake_cpu, monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv(calibration.CALIBRATE_ENV, "now")
    auto_precision(TINY, "cpu", tiny_model(), Precision.BF16)
    assert remembered(TINY) is not None
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert remembered(TINY) is None


def test_nothing_is_measured_where_auto_has_one_candidate_or_calibration_is_off(
    fake_cpu, monkeypatch
):
    monkeypatch.setenv(calibration.CALIBRATE_ENV, "now")
    fake_cpu(name="Arm", flags="fp asimd evtstrm aes crc32")  # Arm: fp32 is the only candidate
    assert auto_precision(TINY, "cpu", tiny_model(), Precision.FP32) is Precision.FP32
    assert not (paths.cache_dir() / calibration.CALIBRATION_FILE).exists()
    monkeypatch.setenv(calibration.CALIBRATE_ENV, "off")
    fake_cpu()
    assert auto_precision(TINY, "cpu", tiny_model(), Precision.BF16) is Precision.BF16
    assert not (paths.cache_dir() / calibration.CALIBRATION_FILE).exists()


def remember_choice(spec_name: str, chosen: str) -> None:
    """A record as a calibration on this (fake) machine would leave it."""
    spec = get_spec(spec_name)
    figures = [
        {"mode": "fp32", "photos_per_s": 5.0, "cosine": 1.0, "valid": True},
        {"mode": chosen, "photos_per_s": 9.5, "cosine": 0.9995, "valid": True},
    ]
    record = {
        "model_key": spec.key,
        "device": "cpu",
        "chosen": chosen,
        "figures": figures,
        "seconds": 4.2,
        "threads": 2,
        "measured_at": 1.0,
        "machine": calibration.machine_identity(),
    }
    path = paths.cache_dir() / calibration.CALIBRATION_FILE
    path.write_text(json.dumps({f"{spec.key}@cpu": record}))


def test_loading_uses_the_remembered_choice_and_an_explicit_precision_wins(fake_cpu, tmp_path):
    checkpoint = save_dinov2_checkpoint(tmp_path / "dinov2_vits14_pretrain.pth")
    remember_choice("dinov2-small", "int8")  # the CPU-flag rule would say bf16 here
    load = lambda precision: load_embedder(  # noqa: E731
        "dinov2-small", model_path=checkpoint, precision=precision, allow_download=False
    )
    assert load("auto").precision is Precision.INT8
    assert load("fp32").precision is Precision.FP32
    assert load("bf16").precision is Precision.BF16


def test_a_damaged_record_is_measured_again_not_trusted(fake_cpu):
    path = paths.cache_dir() / calibration.CALIBRATION_FILE
    path.write_text('{"dinov2-tiny-test/p1@cpu": {"chosen": "int8"')
    assert remembered(TINY) is None
    path.write_text(json.dumps({f"{TINY.key}@cpu": {"chosen": "int8"}}))
    assert remembered(TINY) is None


def test_models_and_status_show_the_decision_and_its_figures(fake_cpu, capsys):
    remember_choice("dinov2-small", "bf16")
    rows = {row["name"]: row for row in run_json(capsys, "models", "--json")["models"]}
    assert rows["dinov2-small"]["auto"]["chosen"] == "bf16"
    assert [f["mode"] for f in rows["dinov2-small"]["auto"]["figures"]] == ["fp32", "bf16"]
    assert rows["builtin"]["auto"] is None
    assert {"name", "title", "dim", "weights", "present", "url"} <= set(rows["builtin"])

    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "dinov2-small     bf16 (measured: fp32 5.0/s, bf16 9.5/s cos 0.99950)" in text

    status = run_json(capsys, "status", "--json", "--model", "dinov2-small")
    assert status["auto"]["chosen"] == "bf16" and "folders" in status
    assert main(["status", "--model", "dinov2-small"]) == 0
    assert 'Mode ("auto" on this CPU): bf16 (measured:' in capsys.readouterr().out


def test_the_window_model_list_tells_what_auto_measured(fake_cpu, qtbot, window):
    from PySide6.QtCore import Qt

    remember_choice("dinov2-small", "int8")
    window.refresh_model_titles()
    row = window.model_combo.findData("dinov2-small")
    tip = window.model_combo.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert "Runs on this CPU in int8 (measured: fp32 5.0/s, int8 9.5/s cos 0.99950)" in tip
    builtin = window.model_combo.itemData(
        window.model_combo.findData("builtin"), Qt.ItemDataRole.ToolTipRole
    )
    assert "measured" not in builtin  # nothing to measure: one candidate


def test_in_the_background_the_flag_rule_runs_until_the_measure_is_remembered(
    fake_cpu, monkeypatch
):
    import threading

    monkeypatch.setenv(calibration.CALIBRATE_ENV, "background")
    assert auto_precision(TINY, "cpu", tiny_model(), Precision.BF16) is Precision.BF16
    [worker] = [t for t in threading.enumerate() if t.name == f"calibrate {TINY.name}"]
    assert not worker.daemon  # a process that ends sooner waits for it (torch stays up)
    worker.join(timeout=120)
    measured = remembered(TINY)
    assert measured is not None
    assert auto_precision(TINY, "cpu", tiny_model(), Precision.BF16).value == measured.chosen


def test_the_about_box_says_how_each_model_runs_on_this_cpu(fake_cpu, qtbot, window):
    """The About box (issue 15, target 1): the measured choice with its figures; the flag
    rule, and when it is measured, for a model not run here yet; the CPU's kind."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

    from albumfinder.gui.about_dialog import AboutDialog

    fake_cpu("Plain AVX2 CPU", "fpu sse sse2 avx avx2 fma")
    remember_choice("dinov2-small", "int8")
    seen: dict = {}

    def look_and_close() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, AboutDialog)
        seen.update(dialog.model_lines())
        seen["text"] = " | ".join(label.text() for label in dialog.findChildren(QLabel))
        seen["paths"] = [field.text() for field in dialog.findChildren(QLineEdit)]
        dialog.reject()

    QTimer.singleShot(200, look_and_close)
    window.about_action.trigger()  # modal until closed
    assert seen["DINOv2 small (ViT-S/14)"] == "int8 (measured: fp32 5.0/s, int8 9.5/s cos 0.99950)"
    assert seen["DINOv2 base (ViT-B/14)"] == (
        "fp32, by the CPU's flags (measuring is off: ALBUMFINDER_CALIBRATE=off)"
    )  # as the tests run: nothing is ever measured, and the box does not promise it
    assert seen["Built-in (EfficientNet-Lite0, offline)"].startswith("fp32")
    assert "Plain AVX2 CPU" in seen["text"] and "AVX2, no native bf16 or VNNI" in seen["text"]
    assert str(paths.index_path()) in seen["paths"]


def test_the_about_box_says_when_a_model_will_be_measured(fake_cpu, monkeypatch):
    from albumfinder.library import Library

    fake_cpu("Server CPU", "fpu sse sse2 avx avx2 fma avx512f avx512bw")  # no VNNI, no bf16
    monkeypatch.setenv(calibration.CALIBRATE_ENV, "background")
    remember_choice("dinov2-small", "bf16")  # a mode this CPU has no use for: not trusted
    facts = Library.about()
    modes = dict(facts.models)
    assert modes["DINOv2 small (ViT-S/14)"] == (
        "fp32 by the CPU's flags, until measured the first time it runs here"
    )
    assert modes["DINOv2 large (ViT-L/14)"].startswith("fp32, by the CPU's flags (too large")
    assert facts.cpu_kind == "AVX-512, no native bf16 or VNNI"

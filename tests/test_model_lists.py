"""The models offered are one list (the registry's): `albumfinder-cli models` and the
window's model list show the same models in the same order (issue 9, should-fix)."""

from __future__ import annotations

from albumfinder.models.registry import get_spec

from cli_support import run_json


def test_the_cli_and_the_window_offer_the_same_models(capsys, window):
    listed = [m["name"] for m in run_json(capsys, "models", "--json")["models"]]
    combo = window.model_combo
    offered = [combo.itemData(i) for i in range(combo.count())]
    assert offered == listed
    assert "builtin" in listed and "dinov2-small" in listed
    # models left out of the lists still work by name for those who have their weights
    assert get_spec("dinov2-small-reg").num_registers == 4

"""Heat-map shares predicted for a chip from its profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.chips.heat import predicted_heat
from studio.core.errors import BadInput


def test_shares_add_up_and_conv_dominates(demo_model: Path) -> None:
    heat = predicted_heat(demo_model, "raspberry-pi-5")
    assert heat.chip == "raspberry-pi-5" and heat.missing == []
    assert sum(heat.shares.values()) == pytest.approx(1.0)
    assert max(heat.shares, key=heat.shares.get).endswith("Conv")


def test_chip_without_published_figures_leaves_nodes_missing(demo_model: Path) -> None:
    heat = predicted_heat(demo_model, "qualcomm-snapdragon-8-gen-3")
    assert heat.missing  # no NPU figure published: those nodes stay uncoloured
    assert set(heat.missing) | set(heat.shares) >= {"/features/features.0/Conv"}


def test_unknown_chip_is_bad_input(demo_model: Path) -> None:
    with pytest.raises(BadInput):
        predicted_heat(demo_model, "no-such-chip")


def test_one_model_on_two_chips_layer_by_layer(demo_model: Path) -> None:
    from studio.core.chips.heat import compare_two_chips

    result = compare_two_chips(demo_model, "raspberry-pi-5", "intel-core-ultra-meteor-lake")
    assert result.name_a != result.name_b
    assert len(result.layers) == 12
    assert all(row.ms_a is not None and row.ms_b is not None for row in result.layers)
    assert result.range_a[0] is not None and result.range_a[0] <= result.range_a[1]

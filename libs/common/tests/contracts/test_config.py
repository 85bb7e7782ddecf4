from __future__ import annotations

import json
from pathlib import Path

import pytest

from swingflow_common.config import (
    KNOWN_SETUPS,
    ConfigError,
    StrategyConfig,
    load_config,
    parse_config,
    save_weights,
)

ROOT = Path(__file__).resolve().parents[4]


def test_shipped_config_has_the_seed_weights() -> None:
    cfg = load_config(ROOT / "swing_config.json")
    assert cfg.weights.as_dict() == {
        "base_signal": 0.30,
        "confirmation": 0.25,
        "ml_confidence": 0.25,
        "entry_timing": 0.20,
    }
    assert set(cfg.setups) == set(KNOWN_SETUPS)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (
            {
                "integration_weights": {
                    "base_signal": 0.5,
                    "confirmation": 0.25,
                    "ml_confidence": 0.25,
                    "entry_timing": 0.2,
                }
            },
            "integration_weights: weights must sum to 1",
        ),
        ({"risk": {"stop_atr_multiple": -2}}, "risk.stop_atr_multiple"),
        ({"setups": ["trend_pullback", "moon_shot"]}, "setups: unknown setup(s) 'moon_shot'"),
        ({"confirm_threshold": "high"}, "confirm_threshold"),
        ({"risk": {"max_positions": 2.5}}, "risk.max_positions"),
        ({"integraton_weights": {}}, "integraton_weights: unknown key"),
    ],
)
def test_bad_config_names_the_key(patch: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(patch, "swing_config.json")
    assert expected in str(err.value)


def test_unreadable_json_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "swing_config.json"
    bad.write_text("{ not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad)


def test_optimized_weights_are_used_only_when_enabled() -> None:
    opt = {"base_signal": 0.4, "confirmation": 0.3, "ml_confidence": 0.1, "entry_timing": 0.2}
    off = parse_config({"optimized_weights": opt})
    on = parse_config({"optimized_weights": opt, "use_optimized_weights": True})
    assert off.weights == StrategyConfig().weights
    assert on.weights.as_dict()["base_signal"] == 0.4


def test_save_weights_keeps_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "swing_config.json"
    path.write_text((ROOT / "swing_config.json").read_text())
    new = {"base_signal": 0.4, "confirmation": 0.2, "ml_confidence": 0.2, "entry_timing": 0.2}
    cfg = save_weights(path, new, threshold=0.65)
    raw = json.loads(path.read_text())
    assert raw["integration_weights"] == new
    assert raw["confirm_threshold"] == 0.65
    assert raw["risk"]["max_positions"] == 10
    assert cfg.weights.as_dict()["base_signal"] == 0.4


def test_save_weights_refuses_bad_weights_and_leaves_file(tmp_path: Path) -> None:
    path = tmp_path / "swing_config.json"
    original = (ROOT / "swing_config.json").read_text()
    path.write_text(original)
    with pytest.raises(ConfigError):
        save_weights(
            path, {"base_signal": 0.9, "confirmation": 0.9, "ml_confidence": 0, "entry_timing": 0}
        )
    assert path.read_text() == original

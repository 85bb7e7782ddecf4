"""The registry: which modules it finds, the keys it promises the pipeline, and how
`analyze` copes with short series, pandas-made arrays and clashing keys."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
from factories import random_walk_bars, random_walk_frame

from swingflow_common import analysis
from swingflow_common.analysis import registry
from swingflow_common.analysis.base import OHLCV, Features

# docs/architecture.md, "Keys the pipeline reads": the contract with the pipeline
CONTRACT: dict[str, tuple[str, ...]] = {
    "moving_averages": (
        "sma_20", "sma_50", "sma_200", "ema_10", "ema_20", "ema_50", "sma_50_slope",
    ),
    "rsi": ("rsi_14",),
    "macd": ("macd", "macd_signal", "macd_hist", "macd_cross_up"),
    "bollinger": ("bb_upper", "bb_middle", "bb_lower", "bb_width", "bb_pctb", "bb_width_rank"),
    "atr": ("atr_14", "natr_14"),
    "adx": ("adx_14", "plus_di_14", "minus_di_14"),
    "stochastic": ("stoch_k", "stoch_d", "stoch_cross_up"),
    "cci": ("cci_20",),
    "williams_r": ("willr_14",),
    "obv": ("obv", "obv_slope_20"),
    "mfi": ("mfi_14",),
    "roc": ("roc_10", "roc_63"),
    "donchian": ("dc_upper", "dc_lower", "dc_middle", "high_20_prior"),
    "keltner": ("kc_upper", "kc_middle", "kc_lower"),
    "supertrend": ("supertrend", "supertrend_dir"),
    "ichimoku": (
        "ichimoku_tenkan", "ichimoku_kijun", "ichimoku_span_a", "ichimoku_span_b",
        "ichimoku_above_cloud",
    ),
    "parabolic_sar": ("psar", "psar_dir"),
    "cmf": ("cmf_20",),
    "vwap": ("vwap_14", "close_vs_vwap"),
    "relative_volume": ("rvol_20",),
    "candles": ("cdl_bull", "cdl_bear"),
    "support_resistance": ("support", "resistance", "dist_support_atr", "dist_resistance_atr"),
    "volatility_regime": ("vol_20", "vol_regime"),
    "high_52w": ("high_52w", "dist_52w_high"),
    "weekly_trend": ("weekly_trend",),
    "gap": ("gap_atr",),
}  # fmt: skip
BY_NAME = {module.NAME: module for module in registry.MODULES}


def test_registry_finds_every_module_of_the_contract_and_nothing_else() -> None:
    names = [module.NAME for module in registry.MODULES]
    assert names == sorted(names)
    assert set(names) == set(CONTRACT)
    assert "relative_strength" not in names  # cross-sectional: no per-symbol compute


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_module_declares_at_least_the_keys_the_pipeline_reads(name: str) -> None:
    assert set(CONTRACT[name]) <= set(BY_NAME[name].KEYS)


@pytest.mark.parametrize("n_bars", [0, 1, 2, 5, 13, 40, 300])
@pytest.mark.parametrize("module", registry.MODULES, ids=lambda m: m.NAME)
def test_module_returns_its_keys_as_float64_arrays_of_the_input_length(
    module: ModuleType, n_bars: int
) -> None:
    out = module.compute(random_walk_bars(n_bars, seed=n_bars))
    assert tuple(out) == tuple(module.KEYS)
    for key, values in out.items():
        assert values.dtype == np.float64, key
        assert values.shape == (n_bars,), key


def test_analyze_returns_every_key_once_and_is_all_nan_before_any_warm_up_ends() -> None:
    features = registry.analyze(random_walk_bars(300, seed=1))
    assert list(features) == list(registry.KEYS)
    assert len(set(registry.KEYS)) == len(registry.KEYS)
    one = registry.analyze(random_walk_bars(1, seed=1))
    # one bar: only OBV's running total needs no history; everything else is warming up
    defined = sorted(key for key, values in one.items() if not np.isnan(values).all())
    assert defined == ["obv"]


def test_analyze_accepts_an_empty_series() -> None:
    features = registry.analyze(random_walk_bars(0))
    assert all(values.shape == (0,) for values in features.values())


def test_analyze_accepts_strided_read_only_and_integer_arrays_from_pandas() -> None:
    frame = random_walk_frame(260, seed=4)
    frame["volume"] = frame["volume"].astype("int64")
    # row-major, as from frame.values of a mixed frame or a record array: strided columns
    block = np.ascontiguousarray(frame[["open", "high", "low", "close"]].to_numpy())
    block.setflags(write=False)
    bars = OHLCV(
        ts=frame.index.tz_localize(None).to_numpy("datetime64[ns]"),
        open=block[:, 0],
        high=block[:, 1],
        low=block[:, 2],
        close=block[:, 3],
        volume=frame["volume"].to_numpy(),  # int64: analyze converts
    )
    assert not bars.close.flags.c_contiguous
    expected = registry.analyze(OHLCV.from_frame(frame))
    for features in (registry.analyze(bars), registry.analyze_frame(frame)):
        assert features.keys() == expected.keys()
        for key in expected:
            np.testing.assert_array_equal(features[key], expected[key], err_msg=key)


def test_package_exposes_analyze_lazily() -> None:
    assert analysis.analyze is registry.analyze
    assert analysis.MODULES is registry.MODULES
    with pytest.raises(AttributeError):
        _ = analysis.no_such_thing


def _fake(name: str, keys: tuple[str, ...]) -> SimpleNamespace:
    def compute(bars: OHLCV) -> Features:
        return {key: np.zeros(len(bars)) for key in keys}

    return SimpleNamespace(NAME=name, KEYS=keys, compute=compute)


def test_analyze_fails_loudly_when_two_modules_return_the_same_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "MODULES", (_fake("a", ("x", "y")), _fake("b", ("y",))))
    with pytest.raises(ValueError, match="'y'"):
        registry.analyze(random_walk_bars(10))


def _write_package(root: Path, name: str, files: dict[str, str]) -> ModuleType:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for file, body in files.items():
        (package / f"{file}.py").write_text(textwrap.dedent(body))
    return __import__(name)


VALID = """
    NAME = "{name}"
    KEYS = ({keys},)
    def compute(bars):
        return {{}}
"""


def test_discover_skips_helpers_and_cross_sectional_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _write_package(
        tmp_path,
        "fake_analysis_ok",
        {
            "zeta": VALID.format(name="zeta", keys='"z"'),
            "alpha": VALID.format(name="alpha", keys='"a"'),
            "base": "X = 1\n",
            "_helpers": "def compute(bars):\n    return {}\n",
            "ranking": 'NAME = "ranking"\ndef rank(panel):\n    return panel\n',
        },
    )
    try:
        assert [m.NAME for m in registry.discover(package)] == ["alpha", "zeta"]
    finally:
        for mod in [m for m in sys.modules if m.startswith("fake_analysis_ok")]:
            del sys.modules[mod]


def test_discover_refuses_duplicate_keys_and_half_defined_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    clash = _write_package(
        tmp_path,
        "fake_analysis_clash",
        {
            "one": VALID.format(name="one", keys='"same"'),
            "two": VALID.format(name="two", keys='"same"'),
        },
    )
    half = _write_package(
        tmp_path,
        "fake_analysis_half",
        {"nameless": 'KEYS = ("k",)\ndef compute(bars):\n    return {}\n'},
    )
    try:
        with pytest.raises(ValueError, match="'same' is claimed by one and two"):
            registry.discover(clash)
        with pytest.raises(TypeError, match="NAME"):
            registry.discover(half)
    finally:
        for mod in [m for m in sys.modules if m.startswith("fake_analysis_")]:
            del sys.modules[mod]

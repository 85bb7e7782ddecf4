"""Find every analysis module in this package and run them all on one symbol's bars.

A module joins by being a file in this package that defines `NAME`, `KEYS` and `compute`
(see `base.py`); nothing is listed by hand. `base`, `registry`, private helpers (a leading
underscore) and modules with no `compute` (the cross-sectional `relative_strength`) are
not per-symbol modules and are skipped. Two modules claiming the same key is a bug that
would silently overwrite a feature, so it fails loudly, at import and at run time.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import cast

import numpy as np
import pandas as pd

import swingflow_common.analysis as analysis
from swingflow_common.analysis.base import OHLCV, Features, FloatArray, Module

_NOT_MODULES = frozenset({"base", "registry"})


def discover(package: ModuleType) -> tuple[Module, ...]:
    """Every per-symbol module in `package`, sorted by file name.

    Raises TypeError for a module with `compute` but no `NAME` or `KEYS`, and ValueError
    when two modules declare the same key.
    """
    found: list[Module] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in _NOT_MODULES or info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if not hasattr(module, "compute"):
            continue
        missing = [attr for attr in ("NAME", "KEYS") if not hasattr(module, attr)]
        if missing:
            raise TypeError(f"analysis module {info.name} has compute but no {missing}")
        found.append(cast(Module, module))
    _check_unique_keys(found)
    return tuple(found)


def _check_unique_keys(modules: list[Module]) -> None:
    owner: dict[str, str] = {}
    for module in modules:
        for key in module.KEYS:
            if key in owner:
                raise ValueError(f"feature {key!r} is claimed by {owner[key]} and {module.NAME}")
            owner[key] = module.NAME


MODULES: tuple[Module, ...] = discover(analysis)
KEYS: tuple[str, ...] = tuple(key for module in MODULES for key in module.KEYS)


def _float_array(values: FloatArray) -> FloatArray:
    """Contiguous float64 (TA-Lib's input type); no copy when it already is."""
    return np.ascontiguousarray(values, dtype=np.float64)


def _normalized(bars: OHLCV) -> OHLCV:
    """The same bars with every price and volume array as contiguous float64.

    Arrays taken from pandas may be strided views, read-only or integer (volume); TA-Lib
    refuses anything but contiguous float64.
    """
    return OHLCV(
        ts=np.asarray(bars.ts),
        open=_float_array(bars.open),
        high=_float_array(bars.high),
        low=_float_array(bars.low),
        close=_float_array(bars.close),
        volume=_float_array(bars.volume),
    )


def by_name(names: Iterable[str]) -> tuple[Module, ...]:
    """The modules with these names, in registry order; KeyError names an unknown one."""
    wanted = set(names)
    unknown = wanted - {m.NAME for m in MODULES}
    if unknown:
        raise KeyError(f"unknown analysis module(s): {', '.join(sorted(unknown))}")
    return tuple(m for m in MODULES if m.NAME in wanted)


def analyze(bars: OHLCV, modules: Sequence[Module] | None = None) -> Features:
    """Every module's features (or only `modules`') for one symbol, in one dict of float64
    arrays of len(bars).

    Any length works: with fewer bars than a module's warm-up its arrays are all NaN.
    Raises ValueError if two modules return the same key.
    """
    bars = _normalized(bars)
    features: Features = {}
    for module in MODULES if modules is None else modules:
        out = module.compute(bars)
        if not features.keys().isdisjoint(out):
            clash = sorted(features.keys() & out.keys())
            raise ValueError(f"module {module.NAME} returns keys already set: {clash}")
        features.update(out)
    return features


def analyze_frame(frame: pd.DataFrame) -> Features:
    """`analyze` on a frame with a DatetimeIndex and open/high/low/close/volume columns."""
    return analyze(OHLCV.from_frame(frame))


__all__ = ["KEYS", "MODULES", "analyze", "analyze_frame", "by_name", "discover"]

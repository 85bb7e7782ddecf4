"""The strategy configuration, `swing_config.json`, as a frozen and validated object.

A bad file never ends in a traceback: `load_config` raises `ConfigError`, whose message
names every bad key by its dotted path and says what is wrong with it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from swingflow_common.messages import STAGE_NAMES, StageName

# The setups the base stage knows. The pipeline implements each; a test keeps the two in step.
KNOWN_SETUPS: tuple[str, ...] = (
    "trend_pullback",
    "breakout_volume",
    "macd_trend_cross",
    "bb_squeeze_breakout",
    "rsi_mean_reversion",
)

DEFAULT_CONFIG_PATH = Path("swing_config.json")

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveMultiple = Annotated[float, Field(gt=0.0, le=50.0)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IntegrationWeights(Frozen):
    base_signal: Unit = 0.30
    confirmation: Unit = 0.25
    ml_confidence: Unit = 0.25
    entry_timing: Unit = 0.20

    @model_validator(mode="after")
    def _sum_to_one(self) -> IntegrationWeights:
        total = sum(self.as_dict().values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"weights must sum to 1, they sum to {total:.6g}")
        return self

    def as_dict(self) -> dict[StageName, float]:
        return {name: float(getattr(self, name)) for name in STAGE_NAMES}


class StageMinimums(Frozen):
    base_signal: Unit = 0.50
    confirmation: Unit = 0.40
    ml_confidence: Unit = 0.0
    entry_timing: Unit = 0.30

    def as_dict(self) -> dict[StageName, float]:
        return {name: float(getattr(self, name)) for name in STAGE_NAMES}


class RiskSettings(Frozen):
    atr_period: Annotated[int, Field(ge=2, le=200)] = 14
    stop_atr_multiple: PositiveMultiple = 2.0
    target_atr_multiple: PositiveMultiple = 3.0
    risk_per_trade: Annotated[float, Field(gt=0.0, le=0.1)] = 0.01
    max_positions: Annotated[int, Field(ge=1, le=1000)] = 10
    max_weight_per_symbol: Annotated[float, Field(gt=0.0, le=1.0)] = 0.15
    initial_cash: Annotated[float, Field(gt=0.0)] = 100_000.0
    commission_bps: Annotated[float, Field(ge=0.0, le=500.0)] = 5.0
    slippage_bps: Annotated[float, Field(ge=0.0, le=500.0)] = 5.0
    max_bars_held: Annotated[int, Field(ge=1, le=1000)] = 20


class StrategyConfig(Frozen):
    integration_weights: IntegrationWeights = IntegrationWeights()
    confirm_threshold: Unit = 0.60
    stage_minimums: StageMinimums = StageMinimums()
    setups: tuple[str, ...] = KNOWN_SETUPS
    risk: RiskSettings = RiskSettings()
    ml_model_path: str = "var/models"
    use_optimized_weights: bool = False
    optimized_weights: IntegrationWeights | None = None
    lookback_bars: Annotated[int, Field(ge=260, le=20_000)] = 5_000

    @field_validator("setups")
    @classmethod
    def _known_setups(cls, setups: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in setups if s not in KNOWN_SETUPS]
        if unknown:
            raise ValueError(
                f"unknown setup(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(KNOWN_SETUPS)}"
            )
        if not setups:
            raise ValueError("at least one setup must be enabled")
        return setups

    @property
    def weights(self) -> IntegrationWeights:
        """The weights in force: the optimized ones when enabled and present."""
        if self.use_optimized_weights and self.optimized_weights is not None:
            return self.optimized_weights
        return self.integration_weights

    def with_weights(
        self, weights: dict[str, float], threshold: float | None = None
    ) -> StrategyConfig:
        """A copy with new integration weights (and threshold), validated like the file."""
        data = self.model_dump()
        data["integration_weights"] = weights
        data["use_optimized_weights"] = False
        if threshold is not None:
            data["confirm_threshold"] = threshold
        return parse_config(data)


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names each bad key."""


def _describe(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> StrategyConfig:
    """Validate a mapping as a strategy config, or raise ConfigError naming the bad keys."""
    try:
        return StrategyConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err, source)) from None


def load_config(path: Path | str | None = None) -> StrategyConfig:
    """Read `swing_config.json` (or the given path); defaults when the default file is absent."""
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return StrategyConfig()
        path = DEFAULT_CONFIG_PATH
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as err:
        raise ConfigError(f"{p}: cannot read: {err.strerror or err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{p}: not valid JSON: {err.msg} at line {err.lineno}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a JSON object")
    return parse_config(data, str(p))


def save_weights(
    path: Path | str, weights: dict[str, float], threshold: float | None = None
) -> StrategyConfig:
    """Write new weights into the config file, keeping every other key as it was."""
    p = Path(path)
    raw: dict[str, Any] = json.loads(p.read_text()) if p.exists() else {}
    raw["integration_weights"] = weights
    if threshold is not None:
        raw["confirm_threshold"] = threshold
    cfg = parse_config(raw, str(p))
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(raw, indent=2) + "\n")
    tmp.replace(p)
    return cfg

"""What a backtest produces: the contract between the engine, its exports, the database,
the API and the dashboard.

A run is a list of closed trades, a daily equity curve (with buy-and-hold beside it) and
the metrics computed from both. Metrics are a flat name -> number mapping (None when a
figure is undefined, e.g. a profit factor with no losing trade) so that new figures never
need a schema change; `METRIC_NAMES` in `backtest.metrics` lists and documents them.
Walk-forward runs keep in-sample and out-of-sample windows apart, and the run's headline
`metrics` are then the out-of-sample ones only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from swingflow_common.messages import UtcTime

ExitReason = Literal["stop", "target", "time", "exit_signal", "end_of_data"]
Mode = Literal["pipeline", "signals"]
Metrics = dict[str, float | None]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BacktestTrade(_Frozen):
    """One closed trade. Money fields are in the account currency; `fees` is the
    commission paid on both sides and `slippage` the money lost to it on both sides,
    both already inside `pnl`. `r_multiple` is `pnl` over the money at risk at entry
    (quantity x (entry price - stop)); None without a stop. Stage scores are None in the
    signal-driven mode, where no pipeline ran."""

    seq: int
    symbol: str
    setup: str
    signal_id: str | None = None
    signal_ts: UtcTime
    entry_ts: UtcTime
    entry_price: float
    exit_ts: UtcTime
    exit_price: float
    exit_reason: ExitReason
    quantity: float
    stop: float | None = None
    target: float | None = None
    fees: float
    slippage: float
    pnl: float
    return_pct: float  # pnl / (quantity x entry price)
    r_multiple: float | None = None
    bars_held: int
    base_signal: float | None = None
    confirmation: float | None = None
    ml_confidence: float | None = None
    entry_timing: float | None = None
    total: float | None = None


class EquityPoint(_Frozen):
    """The account at one session's close, and buy-and-hold of the same universe
    (equal weight, bought at the first session's close, same starting cash)."""

    day: date
    equity: float
    cash: float
    exposure: float  # positions value / equity, in [0, 1]
    benchmark: float


class WindowResult(_Frozen):
    """One walk-forward window: its in-sample and out-of-sample periods and figures."""

    index: int
    in_sample_start: date
    in_sample_end: date
    out_of_sample_start: date
    out_of_sample_end: date
    in_sample: Metrics
    out_of_sample: Metrics


class BacktestResult(_Frozen):
    id: str
    mode: Mode
    dataset: str
    symbols: tuple[str, ...]
    start: date
    end: date
    created_at: datetime
    config: dict[str, object]  # the StrategyConfig (or signal-mode options) used, as JSON
    options: dict[str, object] = Field(default_factory=dict)  # run options (entry, slippage)
    initial_cash: float
    trades: tuple[BacktestTrade, ...]
    equity: tuple[EquityPoint, ...]
    metrics: Metrics
    by_symbol: dict[str, Metrics] = Field(default_factory=dict)
    by_setup: dict[str, Metrics] = Field(default_factory=dict)
    by_exit_reason: dict[str, Metrics] = Field(default_factory=dict)
    monthly: dict[str, float] = Field(default_factory=dict)  # "YYYY-MM" -> return
    walk_forward: tuple[WindowResult, ...] = ()
    candidates: int = 0  # stage-1 candidates seen (pipeline mode)
    confirmed: int = 0  # of which confirmed
    rejected: dict[str, int] = Field(default_factory=dict)  # sizing rejections by reason

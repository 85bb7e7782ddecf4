"""The figures a backtest is judged by: the union of Freqtrade's and backtesting.py's reports,
plus the probabilistic Sharpe ratio.

Equity figures use the daily closes of the account (`EquityPoint.equity`); daily returns
are the percentage changes between consecutive points. Annualized figures follow
backtesting.py's definitions (252 sessions a year, geometric mean daily return, risk-free
rate 0), so the two can be compared number for number (a test does). Trade figures use
the closed trades, costs included. Fractions are fractions (0.05 is 5%); drawdowns are
negative, as in backtesting.py. A figure that is undefined (no trade, no losing trade,
zero volatility) is None. Hand-written rather than taken from a library because none
computes both reports' figures from our trade and equity records (empyrical and
quantstats are equity-only and unmaintained); scipy gives the normal CDF and moments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from swingflow_common.backtest.result import BacktestTrade, EquityPoint, Metrics

PERIODS = 252  # sessions a year, as backtesting.py for daily bars

EQUITY_METRICS: dict[str, str] = {
    "total_return": "final equity / initial cash - 1",
    "cagr": "compound annual growth: (final / initial cash) ^ (365.25 / calendar days) - 1",
    "return_ann": "annualized return: (1 + geometric mean daily return) ^ 252 - 1",
    "volatility": "annualized volatility of daily returns (backtesting.py's compounding formula)",
    "sharpe": "return_ann / volatility (risk-free rate 0; backtesting.py's definition)",
    "sortino": "return_ann / (root mean square of negative daily returns x sqrt 252)",
    "calmar": "return_ann / |max_drawdown|",
    "max_drawdown": "deepest fall of equity from its running peak (negative fraction)",
    "avg_drawdown": "mean of the deepest points of every drawdown (negative fraction)",
    "max_drawdown_duration": "longest time below a previous peak, in calendar days",
    "avg_drawdown_duration": "mean time below a previous peak, in calendar days",
    "exposure": "mean fraction of equity held in positions at the daily closes",
    "exposure_time": "fraction of sessions ending with at least one open position",
    "equity_final": "equity at the last session's close",
    "equity_peak": "highest equity at a session's close",
    "equity_min": "lowest equity at a session's close",
    "buy_and_hold_return": "return of the equal-weight buy-and-hold benchmark",
    "alpha": "total_return - beta x buy_and_hold_return (Jensen, risk-free rate 0)",
    "beta": "covariance of daily log returns with the benchmark's / the benchmark's variance",
    "sharpe_daily": "mean / standard deviation of daily returns (not annualized)",
    "probabilistic_sharpe": "P(true Sharpe > 0) given the daily Sharpe, skew, kurtosis and "
    "sample size (Bailey & Lopez de Prado 2012)",
    "best_day": "best daily return",
    "worst_day": "worst daily return",
    "winning_days": "sessions whose equity rose",
    "losing_days": "sessions whose equity fell",
}

TRADE_METRICS: dict[str, str] = {
    "trades": "closed trades",
    "wins": "trades with pnl > 0",
    "losses": "trades with pnl < 0",
    "win_rate": "wins / trades",
    "net_profit": "sum of trade pnl, costs included",
    "gross_profit": "sum of winning trades' pnl",
    "gross_loss": "sum of losing trades' pnl (negative)",
    "profit_factor": "gross_profit / |gross_loss|",
    "expectancy": "mean pnl per trade (money)",
    "expectancy_ratio": "(1 + avg_win / |avg_loss|) x win_rate - 1 (Freqtrade)",
    "avg_trade_return": "arithmetic mean of trade returns (backtesting.py's Expectancy [%])",
    "geo_avg_trade_return": "geometric mean of trade returns (backtesting.py's Avg. Trade)",
    "best_trade": "best trade return",
    "worst_trade": "worst trade return",
    "avg_win": "mean pnl of winning trades",
    "avg_loss": "mean pnl of losing trades (negative)",
    "avg_r_multiple": "mean pnl / money at risk at entry",
    "sqn": "system quality number: sqrt(trades) x mean pnl / std pnl (Van Tharp)",
    "kelly": "Kelly fraction: win_rate - (1 - win_rate) / (avg_win / |avg_loss|)",
    "avg_duration": "mean bars held (the entry bar counts 1)",
    "max_duration": "most bars held",
    "avg_duration_winners": "mean bars held by winning trades",
    "avg_duration_losers": "mean bars held by losing trades",
    "max_consecutive_wins": "longest run of winning trades, in exit order",
    "max_consecutive_losses": "longest run of losing trades, in exit order",
    "total_fees": "commission paid, both sides",
    "total_slippage": "money lost to slippage, both sides",
}

METRIC_NAMES: dict[str, str] = {**EQUITY_METRICS, **TRADE_METRICS}

FloatArray = npt.NDArray[np.float64]


def _num(x: float) -> float | None:
    """A finite float, or None for an undefined figure."""
    return float(x) if x is not None and math.isfinite(x) else None


def _div(a: float, b: float) -> float | None:
    return _num(a / b) if b != 0 else None


def _runs(flags: Sequence[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _mean(values: Sequence[float]) -> float | None:
    return _num(float(np.mean(values))) if values else None


def geometric_mean(returns: FloatArray) -> float:
    """exp(mean(log(1 + r))) - 1; 0 when a return is -100% or worse (backtesting.py)."""
    growth = 1.0 + returns
    if len(growth) == 0 or np.any(growth <= 0):
        return 0.0
    return float(np.exp(np.log(growth).mean()) - 1.0)


def trade_metrics(trades: Sequence[BacktestTrade]) -> Metrics:
    """The trade-only figures (TRADE_METRICS)."""
    n = len(trades)
    out: Metrics = dict.fromkeys(TRADE_METRICS)
    out |= {"trades": float(n), "wins": 0.0, "losses": 0.0, "net_profit": 0.0}
    out |= {"gross_profit": 0.0, "gross_loss": 0.0, "total_fees": 0.0, "total_slippage": 0.0}
    out |= {"max_consecutive_wins": 0.0, "max_consecutive_losses": 0.0}
    if n == 0:
        return out
    pnl = np.array([t.pnl for t in trades])
    ret = np.array([t.return_pct for t in trades])
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_profit, gross_loss = float(wins.sum()), float(losses.sum())
    win_rate = len(wins) / n
    avg_win = float(wins.mean()) if len(wins) else None
    avg_loss = float(losses.mean()) if len(losses) else None
    payoff = avg_win / -avg_loss if avg_win is not None and avg_loss is not None else None
    std = float(pnl.std(ddof=1)) if n > 1 else 0.0
    r_mults = [t.r_multiple for t in trades if t.r_multiple is not None]
    held = [float(t.bars_held) for t in trades]
    ordered = sorted(trades, key=lambda t: (t.exit_ts, t.seq))
    out |= {
        "wins": float(len(wins)),
        "losses": float(len(losses)),
        "win_rate": win_rate,
        "net_profit": float(pnl.sum()),
        "gross_profit": gross_profit,
        "gross_loss": gross_loss,
        "profit_factor": _div(gross_profit, -gross_loss),
        "expectancy": float(pnl.mean()),
        "expectancy_ratio": None if payoff is None else (1.0 + payoff) * win_rate - 1.0,
        "avg_trade_return": float(ret.mean()),
        "geo_avg_trade_return": geometric_mean(ret),
        "best_trade": float(ret.max()),
        "worst_trade": float(ret.min()),
        "avg_win": avg_win,
        "avg_loss": avg_loss,
        "avg_r_multiple": _mean(r_mults),
        "sqn": _div(math.sqrt(n) * float(pnl.mean()), std) if std > 0 else None,
        "kelly": None if not payoff else win_rate - (1.0 - win_rate) / payoff,
        "avg_duration": float(np.mean(held)),
        "max_duration": float(max(held)),
        "avg_duration_winners": _mean([h for h, p in zip(held, pnl, strict=True) if p > 0]),
        "avg_duration_losers": _mean([h for h, p in zip(held, pnl, strict=True) if p < 0]),
        "max_consecutive_wins": float(_runs([t.pnl > 0 for t in ordered])),
        "max_consecutive_losses": float(_runs([t.pnl < 0 for t in ordered])),
        "total_fees": float(sum(t.fees for t in trades)),
        "total_slippage": float(sum(t.slippage for t in trades)),
    }
    return out


def drawdowns(values: FloatArray) -> FloatArray:
    """Drawdown at each point: equity / running peak - 1 (0 at a new high)."""
    out: FloatArray = values / np.maximum.accumulate(values) - 1.0
    return out


def drawdown_periods(days: Sequence[object], dd: FloatArray) -> list[tuple[int, float]]:
    """Each drawdown as (calendar days from its peak to its recovery or the last point,
    its deepest value); a drawdown still open at the end runs to the last point."""
    periods: list[tuple[int, float]] = []
    peak = 0
    for i in range(1, len(dd) + 1):
        at_end = i == len(dd)
        if at_end or dd[i] == 0:
            if i - 1 > peak:  # some point between the peak and here was below it
                end = i if not at_end else i - 1
                span = (days[end] - days[peak]).days  # type: ignore[operator]
                periods.append((span, float(dd[peak : end + 1].min())))
            peak = i
    return periods


def probabilistic_sharpe(returns: FloatArray, benchmark_sharpe: float = 0.0) -> float | None:
    """PSR: the probability that the true per-period Sharpe exceeds `benchmark_sharpe`,
    correcting for sample length, skew and fat tails (Bailey & Lopez de Prado 2012)."""
    n = len(returns)
    if n < 3:
        return None
    std = float(returns.std(ddof=1))
    if std == 0:
        return None
    sr = float(returns.mean()) / std
    skew = float(stats.skew(returns))
    kurt = float(stats.kurtosis(returns, fisher=False))
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if not denom > 0:
        return None
    return _num(
        float(stats.norm.cdf((sr - benchmark_sharpe) * math.sqrt(n - 1) / math.sqrt(denom)))
    )


def _annual(day: FloatArray) -> tuple[float, float | None]:
    """backtesting.py's annualized return and volatility from daily returns."""
    g = geometric_mean(day)
    ret = (1.0 + g) ** PERIODS - 1.0
    if len(day) < 2:
        return ret, None
    var = float(day.var(ddof=1))
    vol = math.sqrt(max(0.0, (var + (1 + g) ** 2) ** PERIODS - (1 + g) ** (2 * PERIODS)))
    return ret, vol


def _beta(eq: FloatArray, bench: FloatArray) -> float | None:
    if len(eq) < 3 or np.any(eq <= 0) or np.any(bench <= 0):
        return None
    a, b = np.diff(np.log(eq)), np.diff(np.log(bench))
    var = float(b.var(ddof=1))
    return _div(float(np.cov(a, b)[0, 1]), var) if var > 0 else None


def equity_metrics(equity: Sequence[EquityPoint], initial_cash: float) -> Metrics:
    """The equity-curve figures (EQUITY_METRICS)."""
    out: Metrics = dict.fromkeys(EQUITY_METRICS)
    if not equity:
        return out
    eq = np.array([p.equity for p in equity])
    bench = np.array([p.benchmark for p in equity])
    days = [p.day for p in equity]
    day = eq[1:] / eq[:-1] - 1.0 if len(eq) > 1 else np.array([])
    ret_ann, vol = _annual(day)
    dd = drawdowns(eq)
    periods = drawdown_periods(days, dd)
    max_dd = float(dd.min())
    years = (days[-1] - days[0]).days / 365.25
    total = float(eq[-1] / initial_cash - 1.0)
    bh = float(bench[-1] / initial_cash - 1.0)
    beta = _beta(eq, bench)
    std = float(day.std(ddof=1)) if len(day) > 1 else 0.0
    out |= {
        "total_return": total,
        "cagr": _num((eq[-1] / initial_cash) ** (1.0 / years) - 1.0) if years > 0 else None,
        "return_ann": _num(ret_ann) if len(day) else None,
        "volatility": vol,
        "sharpe": _div(ret_ann, vol) if vol else None,
        "sortino": _div(
            ret_ann, math.sqrt(float(np.mean(np.minimum(day, 0) ** 2))) * math.sqrt(PERIODS)
        )
        if len(day)
        else None,
        "calmar": _div(ret_ann, -max_dd) if max_dd < 0 and len(day) else None,
        "max_drawdown": max_dd,
        "avg_drawdown": _mean([d for _, d in periods]) if periods else 0.0,
        "max_drawdown_duration": float(max((s for s, _ in periods), default=0)),
        "avg_drawdown_duration": _mean([float(s) for s, _ in periods]) if periods else 0.0,
        "exposure": float(np.mean([p.exposure for p in equity])),
        "exposure_time": float(np.mean([p.exposure > 0 for p in equity])),
        "equity_final": float(eq[-1]),
        "equity_peak": float(eq.max()),
        "equity_min": float(eq.min()),
        "buy_and_hold_return": bh,
        "alpha": None if beta is None else total - beta * bh,
        "beta": beta,
        "sharpe_daily": _div(float(day.mean()), std) if std > 0 else None,
        "probabilistic_sharpe": probabilistic_sharpe(day),
        "best_day": float(day.max()) if len(day) else None,
        "worst_day": float(day.min()) if len(day) else None,
        "winning_days": float((day > 0).sum()),
        "losing_days": float((day < 0).sum()),
    }
    return out


def compute_metrics(
    trades: Sequence[BacktestTrade], equity: Sequence[EquityPoint], initial_cash: float
) -> Metrics:
    """Every figure of METRIC_NAMES, from the trades and the daily equity curve."""
    return {**equity_metrics(equity, initial_cash), **trade_metrics(trades)}


def group_metrics(
    trades: Sequence[BacktestTrade], key: Callable[[BacktestTrade], str]
) -> dict[str, Metrics]:
    """The trade-only figures of each group of trades (by symbol, setup, exit reason...)."""
    groups: dict[str, list[BacktestTrade]] = {}
    for t in trades:
        groups.setdefault(key(t), []).append(t)
    return {name: trade_metrics(group) for name, group in sorted(groups.items())}


def monthly_returns(equity: Sequence[EquityPoint]) -> dict[str, float]:
    """ "YYYY-MM" -> the month's return: its last close over the previous month's last
    close (the first month: over the first point) - 1."""
    out: dict[str, float] = {}
    last: dict[str, float] = {}
    for p in equity:
        last[f"{p.day:%Y-%m}"] = p.equity
    before = equity[0].equity if equity else 0.0
    for month, value in last.items():
        out[month] = value / before - 1.0 if before > 0 else 0.0
        before = value
    return out

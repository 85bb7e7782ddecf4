"""The naive baseline the scan is measured against: the same indicators, one symbol at a
time, written the way a pandas user would (rolling / ewm / a Python loop for Supertrend).

It exists only to be timed; the platform never calls it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _wilder(s: pd.Series, n: int) -> pd.Series:
    return s.ewm(alpha=1 / n, adjust=False).mean()


def indicators(df: pd.DataFrame) -> pd.DataFrame:
    o, h, lo, c, v = df["open"], df["high"], df["low"], df["close"], df["volume"]
    out: dict[str, pd.Series] = {}
    for n in (20, 50, 200):
        out[f"sma_{n}"] = c.rolling(n).mean()
    for n in (10, 20, 50):
        out[f"ema_{n}"] = c.ewm(span=n, adjust=False).mean()
    delta = c.diff()
    gain, loss = delta.clip(lower=0), -delta.clip(upper=0)
    out["rsi_14"] = 100 - 100 / (1 + _wilder(gain, 14) / _wilder(loss, 14))
    macd = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    out["macd"], out["macd_signal"] = macd, macd.ewm(span=9, adjust=False).mean()
    mid, sd = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    out["bb_upper"], out["bb_lower"] = mid + 2 * sd, mid - 2 * sd
    out["bb_width_rank"] = ((out["bb_upper"] - out["bb_lower"]) / mid).rolling(120).rank(pct=True)
    prev = c.shift()
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    atr = _wilder(tr, 14)
    out["atr_14"] = atr
    up, down = h.diff(), -lo.diff()
    pdm = up.where((up > down) & (up > 0), 0.0)
    mdm = down.where((down > up) & (down > 0), 0.0)
    pdi, mdi = 100 * _wilder(pdm, 14) / atr, 100 * _wilder(mdm, 14) / atr
    out["adx_14"] = _wilder(100 * (pdi - mdi).abs() / (pdi + mdi), 14)
    ll, hh = lo.rolling(14).min(), h.rolling(14).max()
    out["stoch_k"] = (100 * (c - ll) / (hh - ll)).rolling(3).mean()
    out["stoch_d"] = out["stoch_k"].rolling(3).mean()
    out["willr_14"] = -100 * (hh - c) / (hh - ll)
    tp = (h + lo + c) / 3
    mad = tp.rolling(20).apply(lambda x: np.abs(x - x.mean()).mean(), raw=True)
    out["cci_20"] = (tp - tp.rolling(20).mean()) / (0.015 * mad)
    out["obv"] = (np.sign(delta).fillna(0) * v).cumsum()
    mf = tp * v
    pos = mf.where(tp > tp.shift(), 0.0).rolling(14).sum()
    neg = mf.where(tp < tp.shift(), 0.0).rolling(14).sum()
    out["mfi_14"] = 100 - 100 / (1 + pos / neg)
    out["roc_10"], out["roc_63"] = c.pct_change(10), c.pct_change(63)
    out["dc_upper"], out["dc_lower"] = h.rolling(20).max(), lo.rolling(20).min()
    kc_mid = c.ewm(span=20, adjust=False).mean()
    atr10 = _wilder(tr, 10)
    out["kc_upper"], out["kc_lower"] = kc_mid + 2 * atr10, kc_mid - 2 * atr10
    clv = ((c - lo) - (h - c)) / (h - lo)
    out["cmf_20"] = (clv * v).rolling(20).sum() / v.rolling(20).sum()
    out["vwap_14"] = (tp * v).rolling(14).sum() / v.rolling(14).sum()
    out["rvol_20"] = v / v.shift().rolling(20).mean()
    out["high_52w"] = h.rolling(252, min_periods=1).max()
    logret = np.log(c).diff()
    out["vol_regime"] = logret.rolling(20).std().rolling(252).rank(pct=True)
    out["gap_atr"] = (o - prev) / atr.shift()
    out["supertrend"] = _supertrend(h, lo, c, _wilder(tr, 10))
    return pd.DataFrame(out, index=df.index)


def _supertrend(h: pd.Series, lo: pd.Series, c: pd.Series, atr: pd.Series) -> pd.Series:
    hl2 = (h + lo) / 2
    upper, lower = (hl2 + 3 * atr).to_numpy(copy=True), (hl2 - 3 * atr).to_numpy(copy=True)
    close = c.to_numpy()
    st = np.full(len(c), np.nan)
    direction = 1
    for i in range(1, len(c)):
        if close[i - 1] <= upper[i - 1]:
            upper[i] = min(upper[i], upper[i - 1]) if not np.isnan(upper[i - 1]) else upper[i]
        if close[i - 1] >= lower[i - 1]:
            lower[i] = max(lower[i], lower[i - 1]) if not np.isnan(lower[i - 1]) else lower[i]
        if close[i] > upper[i - 1]:
            direction = 1
        elif close[i] < lower[i - 1]:
            direction = -1
        st[i] = lower[i] if direction == 1 else upper[i]
    return pd.Series(st, index=c.index)

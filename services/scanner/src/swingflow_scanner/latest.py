"""The latest analysis of a symbol, as the scanner writes it to the `analysis` KV bucket.

Key: the symbol's subject token (`subjects.token`). Value: this JSON object, for the
gateway's `GET /api/symbol/{symbol}/analysis` and the dashboard:

    {"symbol": "AAPL", "ts": "2010-08-20T00:00:00Z",      # the bar analyzed last
     "features": {"close": 249.64, "rsi_14": 48.2, ..., "rs_rank": 0.71},  # None = warming up
     "setups": ["trend_pullback"],                         # the candidates found on that bar
     "complete": true,                                     # every module's features
     "ts_event": "2024-05-01T12:00:00.123Z"}               # when the scanner wrote it

`complete` is false while `features` hold only the setup tier (`pipeline.features`): the
scanner analyzes every module only for a bar where a setup hits, writes the setup tier for
the others at once, and overwrites it with the complete snapshot when it has no batch
waiting (usually within a second of the batch; see docs/services.md, Performance).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from swingflow_common.messages import Symbol, UtcTime, utcnow


class LatestAnalysis(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: Symbol
    ts: UtcTime
    features: dict[str, float | None]
    setups: tuple[str, ...] = ()
    complete: bool = True
    ts_event: UtcTime = Field(default_factory=utcnow)

    @classmethod
    def at(
        cls,
        symbol: str,
        ts: datetime,
        features: dict[str, float | None],
        setups: tuple[str, ...],
        complete: bool = True,
    ) -> LatestAnalysis:
        return cls(symbol=symbol, ts=ts, features=features, setups=setups, complete=complete)

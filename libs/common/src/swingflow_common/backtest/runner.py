"""One backtest request, whoever asks: the CLI (`swingflow backtest`) and the gateway's
`POST /api/backtest` both turn their input into a `BacktestRequest` and call `run`, so
the two can never drift apart; `store` then saves the result in the database.

A request names a packaged dataset or a synthetic spec (`sp500-2010`,
`synthetic:20x600:7`); the CLI may also load a folder of files first and pass the
dataset in. A request with `in_sample_bars` and `out_of_sample_bars` is a walk-forward
run (its headline metrics are out-of-sample only).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from swingflow_common.backtest.result import BacktestResult
from swingflow_common.config import StrategyConfig
from swingflow_common.data import BUILTIN, Dataset, load
from swingflow_common.progress import Progress

assert all(re.fullmatch(r"[a-z0-9-]+", name) for name in BUILTIN)  # safe in the pattern
UNIVERSE_PATTERN = rf"^({'|'.join(BUILTIN)}|synthetic:[1-9]\d{{0,2}}x[1-9]\d{{0,3}}(:\d{{1,9}})?)$"
Bars = Annotated[int, Field(ge=5, le=100_000, strict=True)]


def _iso_date(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be a date YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_iso_date)]
SymbolName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,15}$")]


class BacktestRequest(BaseModel):
    """How to backtest a dataset: which period and symbols, plain or walk-forward.
    A date is a date or an ISO string (never a number read as a Unix time), a count an int."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: Day | None = Field(None, description="First trading day (default: the data's).")
    end: Day | None = Field(None, description="Last trading day (default: the data's).")
    symbols: tuple[SymbolName, ...] | None = Field(
        None, min_length=1, max_length=1000, description="Only these symbols (default: all)."
    )
    entry: Literal["next_open", "close"] = Field(
        "next_open", description="Fill a signal at the next bar's open or at its own close."
    )
    in_sample_bars: Bars | None = Field(None, description="Walk-forward: bars to fit on.")
    out_of_sample_bars: Bars | None = Field(None, description="Walk-forward: bars to test on.")
    step_bars: Bars | None = Field(None, description="Walk-forward step (default: OOS bars).")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if (self.in_sample_bars is None) != (self.out_of_sample_bars is None):
            raise ValueError("walk-forward needs both in_sample_bars and out_of_sample_bars")
        if self.step_bars is not None and self.in_sample_bars is None:
            raise ValueError("step_bars applies to a walk-forward run only")
        return self

    @property
    def walk_forward(self) -> bool:
        return self.in_sample_bars is not None


class UniverseBacktestRequest(BacktestRequest):
    """A request that names its data: a packaged dataset or a synthetic spec of at most
    999 symbols x 9,999 bars, never a path (what the API accepts: a client cannot make the
    server read a folder, nor build an unbounded universe)."""

    universe: str = Field(
        "sp500-2010",
        pattern=UNIVERSE_PATTERN,
        description="A packaged dataset (e.g. sp500-2010) or synthetic:<symbols>x<bars>[:seed].",
    )

    def load_dataset(self) -> Dataset:
        """The named universe (raises `DataError` when it cannot be loaded)."""
        return load(self.universe)


def new_run_id(now: datetime | None = None) -> str:
    """`bt-20240301-153012-1a2b3c`: sortable by time, unique enough for one user's runs."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"bt-{stamp}-{secrets.token_hex(3)}"


def run(
    dataset: Dataset,
    config: StrategyConfig,
    request: BacktestRequest,
    *,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> BacktestResult:
    """Backtest `config` on `dataset` as `request` says (a `ValueError` for a request the
    data cannot satisfy, e.g. an unknown symbol or a period without bars)."""
    from swingflow_common.backtest.engine import run_pipeline_backtest

    symbols = list(request.symbols) if request.symbols else None
    if symbols:
        unknown = sorted({s.upper() for s in symbols} - set(dataset.symbols))
        if unknown:
            raise ValueError(f"{dataset.name} has no symbol(s) {', '.join(unknown[:10])}")
    if not request.walk_forward:
        return run_pipeline_backtest(
            dataset, config, symbols=symbols, start=request.start, end=request.end,
            entry=request.entry, run_id=run_id or new_run_id(), progress=progress,
        )  # fmt: skip
    from swingflow_common.backtest.walk_forward import run_walk_forward

    result: BacktestResult = run_walk_forward(
        dataset, config, in_sample_bars=request.in_sample_bars or 0,
        out_of_sample_bars=request.out_of_sample_bars or 0, step_bars=request.step_bars,
        symbols=symbols, start=request.start, end=request.end, entry=request.entry,
        run_id=run_id or new_run_id(), progress=progress,
    )  # fmt: skip
    return result


async def store(database_url: str, result: BacktestResult) -> None:
    """Migrate the database if needed and save `result` in it."""
    from swingflow_common.db import engine_from_url, migrate_async, session_factory
    from swingflow_common.db.backtest_repository import save_run

    await migrate_async(database_url)
    engine = engine_from_url(database_url)
    try:
        async with session_factory(engine).begin() as session:
            await save_run(session, result)
    finally:
        await engine.dispose()

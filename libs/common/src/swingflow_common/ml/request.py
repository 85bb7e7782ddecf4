"""A training request that names its data, as the API accepts it (`POST /api/ml/train`).

Like `backtest.runner.UniverseBacktestRequest`, it names packaged datasets or synthetic
specs, never a path, so a client cannot make the server read a folder. The overrides are
the fixed-up-front `TrainParams` a user may sensibly change, each bounded so one request
cannot ask for an unbounded amount of work; anything left out keeps its default.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from swingflow_common.backtest.runner import UNIVERSE_PATTERN
from swingflow_common.data import Dataset, load
from swingflow_common.ml.train import TrainParams

DEFAULT_UNIVERSES = ("bokeh-2000-2013-adjusted", "megacaps-2013-2023")  # as `swingflow train`
Universe = Annotated[str, Field(pattern=UNIVERSE_PATTERN)]


class TrainOverrides(BaseModel):
    """Training parameters to change (see `TrainParams`); unset ones keep their default.
    Strict types: `true` is not a seed, nor `"3"` a number of folds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_folds: StrictInt | None = Field(None, ge=2, le=10, description="Walk-forward folds.")
    embargo_days: StrictInt | None = Field(
        None, ge=0, le=60, description="Gap after each test fold."
    )
    n_estimators: StrictInt | None = Field(None, ge=10, le=1000, description="Boosting rounds.")
    max_depth: StrictInt | None = Field(None, ge=1, le=8, description="Tree depth.")
    learning_rate: StrictFloat | None = Field(None, gt=0, le=1, description="Shrinkage (eta).")
    min_child_weight: StrictFloat | None = Field(None, ge=0, le=100)
    n_bootstrap: StrictInt | None = Field(
        None, ge=0, le=10_000, description="Bootstrap draws of the lift's interval (0: none)."
    )
    seed: StrictInt | None = Field(None, ge=0, le=2**31 - 1)

    def apply(self, base: TrainParams | None = None) -> TrainParams:
        """`base` (default `TrainParams()`) with the fields given here."""
        changes = {k: v for k, v in self.model_dump().items() if v is not None}
        return dataclasses.replace(base or TrainParams(), **changes)


class TrainRequest(BaseModel):
    """What to train on and how; the CLI's `--universe`, `--from`, `--to`, `--no-promote`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    universes: tuple[Universe, ...] = Field(
        DEFAULT_UNIVERSES,
        min_length=1,
        max_length=4,
        description="Packaged datasets (e.g. megacaps-2013-2023) or synthetic:<symbols>x<bars>"
        "[:seed]; a signal found in two of them counts once.",
    )
    start: date | None = Field(None, description="First signal date (default: the data's).")
    end: date | None = Field(None, description="Last date read, labels included.")
    promote: StrictBool = Field(
        True, description="Promote the model when it beats the promoted one out of sample."
    )
    params: TrainOverrides = Field(default_factory=TrainOverrides)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        if value is not None and not isinstance(value, str | date):
            raise ValueError("a date is written YYYY-MM-DD, not a number")  # no Unix times
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if len(set(self.universes)) != len(self.universes):
            raise ValueError("a universe is named twice")
        return self

    def load_datasets(self) -> list[Dataset]:
        """The named datasets (raises `DataError` when one cannot be loaded)."""
        return [load(name) for name in self.universes]

    def train_params(self) -> TrainParams:
        return self.params.apply()

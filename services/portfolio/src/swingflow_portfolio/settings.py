"""The portfolio service's settings: the shared ones, plus its own under `PORTFOLIO_`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from swingflow_common.messages import Interval
from swingflow_common.settings import CommonSettings


class Settings(CommonSettings):
    """The book's id, the bar interval it trades on, how bars are taken in batches, and how
    long a standby waits before it takes over from an active copy that stopped answering."""

    model_config = SettingsConfigDict(env_prefix="PORTFOLIO_")

    book_id: Annotated[str, Field(min_length=1, max_length=32)] = "paper"
    interval: Interval = "1d"
    bars_batch_size: Annotated[int, Field(ge=1, le=1024)] = 64
    signals_batch_size: Annotated[int, Field(ge=1, le=1024)] = 64
    fetch_timeout: Annotated[float, Field(gt=0, le=30)] = 0.2  # a batch waits at most this
    # a partial batch of bars waits this long once for more (s): a steady stream of bars is
    # applied in a few transactions a second, not one per handful of bars; on SQLite each
    # holds the one write lock that the scanner and signals need too
    bars_linger: Annotated[float, Field(ge=0, le=5)] = 0.2
    bar_attempts: Annotated[int, Field(ge=1, le=20)] = 5  # tries of a batch before giving up
    lease_ttl: Annotated[float, Field(ge=0.3, le=300)] = 15.0  # standby takeover time (s)
    signals_durable: str = "portfolio-signals"
    bars_durable: str = "portfolio-bars"

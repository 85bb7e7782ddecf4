"""The feed's settings, read from `FEED_*` variables (plus the shared NATS_URL, LOG_LEVEL)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from swingflow_common.settings import CommonSettings


class Settings(CommonSettings):
    """What to replay and how fast.

    - `dataset` (FEED_DATASET): anything `swingflow_common.data.load` accepts.
    - `warmup_days` (FEED_WARMUP_DAYS): the first days go out as fast as the consumers keep
      up, so 200-bar indicators are warm quickly.
    - `days_per_second` (FEED_DAYS_PER_SECOND): the pace after the warm-up; 0 = no pacing.
    - `max_pending` (FEED_MAX_PENDING): backpressure, a day is published only once every
      watched consumer has fewer messages than this left to process.
    - `watch_prefix` (FEED_WATCH_PREFIX): the durable consumers of md.bars that are watched.
    - `await_consumer_s` (FEED_AWAIT_CONSUMER_S): how long to wait at start for one of them
      to exist before publishing without backpressure.
    - `max_in_flight` (FEED_MAX_IN_FLIGHT): async publishes awaiting their PubAck.
    - `progress_every` (FEED_PROGRESS_EVERY): log progress every that many days.
    """

    model_config = SettingsConfigDict(env_prefix="FEED_")

    dataset: str = "sp500-2010"
    warmup_days: Annotated[int, Field(ge=0)] = 210
    days_per_second: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.5
    max_pending: Annotated[int, Field(ge=1)] = 20_000
    watch_prefix: str = "scanner-"
    await_consumer_s: Annotated[float, Field(ge=0.0)] = 30.0
    max_in_flight: Annotated[int, Field(ge=1, le=100_000)] = 1_024
    progress_every: Annotated[int, Field(ge=1)] = 20
    poll_interval_s: Annotated[float, Field(gt=0.0, le=10.0)] = 0.05

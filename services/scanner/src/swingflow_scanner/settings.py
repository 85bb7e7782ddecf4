"""The scanner's settings, read from `SCANNER_*` variables (plus the shared NATS_URL,
DATABASE_URL, SWINGFLOW_CONFIG, LOG_LEVEL)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from swingflow_common.settings import CommonSettings

SERVICE = "scanner"  # the name in metrics, logs and the dead-letter subject


class Settings(CommonSettings):
    """How the scanner consumes and scales.

    - `batch_size` (SCANNER_BATCH_SIZE): bars fetched at once. A bigger batch holds more
      sessions of a backlog, and each symbol is analyzed once per batch, not once per bar.
    - `fetch_timeout_s` (SCANNER_FETCH_TIMEOUT_S): how long an idle fetch waits.
    - `replicas` / `replica` (SCANNER_REPLICAS / SCANNER_REPLICA): run N copies, each with
      its index 0..N-1; each analyzes the symbols with crc32(symbol) % N == index.
    - `session_grace_s` (SCANNER_SESSION_GRACE_S): how long after 16:00 New York a daily
      bar built from ticks waits for late prints before it is closed and published.
    - `tick_timer_s` (SCANNER_TICK_TIMER_S): how often open tick bars are checked.
    - `ticks` / `jobs` (SCANNER_TICKS / SCANNER_JOBS): consume md.ticks / scan.jobs.
    - `max_attempts` (SCANNER_MAX_ATTEMPTS): tries of a batch that hits a transient fault
      (retried in place, in order) before its messages are dead-lettered as `gave_up`.
    - `latest_idle_s` (SCANNER_LATEST_IDLE_S): how long no batch of bars must have been
      handled before the latest analyses left at the setup tier are completed.
    - `announce_every_s` (SCANNER_ANNOUNCE_EVERY_S): while a big batch is analyzed, what
      it has found so far is sent this often (the rest at the end of the batch). Smaller
      sends sooner but cuts the signals service's work into more, costlier batches.
    """

    model_config = SettingsConfigDict(env_prefix="SCANNER_")

    batch_size: Annotated[int, Field(ge=1, le=50_000)] = 20_000
    fetch_timeout_s: Annotated[float, Field(gt=0.0, le=60.0)] = 1.0
    replicas: Annotated[int, Field(ge=1, le=1_000)] = 1
    replica: Annotated[int, Field(ge=0)] = 0
    session_grace_s: Annotated[float, Field(ge=0.0, le=86_400.0)] = 900.0
    tick_timer_s: Annotated[float, Field(gt=0.0, le=3_600.0)] = 5.0
    ticks: bool = True
    jobs: bool = True
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    latest_idle_s: Annotated[float, Field(ge=0.0, le=60.0)] = 0.05
    announce_every_s: Annotated[float, Field(ge=0.0, le=60.0)] = 0.1

    @model_validator(mode="after")
    def _replica_in_range(self) -> Self:
        if self.replica >= self.replicas:
            raise ValueError(f"replica {self.replica} must be below replicas {self.replicas}")
        return self

"""The signals service's settings: the shared ones, plus its own under `SIGNALS_`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from swingflow_common.settings import CommonSettings


class Settings(CommonSettings):
    """`SIGNALS_ML_TIMEOUT` (s) bounds the wait for ml.predict; batches share one request."""

    model_config = SettingsConfigDict(env_prefix="SIGNALS_")

    ml_timeout: Annotated[float, Field(gt=0, le=30)] = 0.25
    batch_size: Annotated[int, Field(ge=1, le=256)] = 32
    fetch_timeout: Annotated[float, Field(gt=0, le=30)] = 0.2  # a batch waits at most this
    durable: str = "signals-candidates"

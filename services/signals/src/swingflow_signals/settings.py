"""The signals service's settings: the shared ones, plus its own under `SIGNALS_`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from swingflow_common.settings import CommonSettings


class Settings(CommonSettings):
    """`SIGNALS_ML_TIMEOUT` (s) bounds the wait for ml.predict; batches share one request.
    `SIGNALS_ML_RECHECK_S`: while the ml service has no model, how long that answer is
    trusted before a batch asks again (a promoted model is asked for at once)."""

    model_config = SettingsConfigDict(env_prefix="SIGNALS_")

    ml_timeout: Annotated[float, Field(gt=0, le=30)] = 0.25
    ml_recheck_s: Annotated[float, Field(ge=0, le=3_600)] = 1.0
    batch_size: Annotated[int, Field(ge=1, le=256)] = 32
    fetch_timeout: Annotated[float, Field(gt=0, le=30)] = 0.2  # a batch waits at most this
    durable: str = "signals-candidates"

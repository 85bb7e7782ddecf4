"""The ml service's settings: the shared ones, plus its own under the `ML_` prefix."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from swingflow_common.settings import CommonSettings


class Settings(CommonSettings):
    """`ML_METRICS_PORT` serves /metrics; `ML_QUEUE` is the queue group replicas share."""

    model_config = SettingsConfigDict(env_prefix="ML_")

    queue: str = "ml"

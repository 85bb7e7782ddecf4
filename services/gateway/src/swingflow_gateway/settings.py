"""The gateway's settings: where it listens, who may write, what it serves.

Read from the environment with the prefix `GATEWAY_` (`GATEWAY_HOST`, `GATEWAY_PORT`,
`GATEWAY_CORS_ORIGINS`, `GATEWAY_STATIC_DIR`, `GATEWAY_METRICS_PORT`, ...), beside the
shared variables of `CommonSettings` (`NATS_URL`, `DATABASE_URL`, `SWINGFLOW_CONFIG`,
`LOG_LEVEL`) and the platform's write token `SWINGFLOW_API_TOKEN`.

The token is a `SecretStr`: its repr and any dump of the settings show `**********`, so it
never reaches a log line. `check_bind` refuses a non-loopback address without a token.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from swingflow_common.settings import CommonSettings, SettingsError

# services/gateway/src/swingflow_gateway/settings.py -> services/gateway/web/dist
DEFAULT_STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"
LOCAL_HOSTS = frozenset({"localhost", "ip6-localhost"})


class Settings(CommonSettings):
    """Where the gateway listens and what it serves; see the module docstring."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    static_dir: Path = DEFAULT_STATIC_DIR
    api_token: Annotated[SecretStr | None, Field(validation_alias="SWINGFLOW_API_TOKEN")] = None
    ws_queue_size: Annotated[int, Field(ge=1, le=100_000)] = 256
    ws_heartbeat_seconds: Annotated[float, Field(gt=0, le=3600)] = 15.0
    ws_send_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    ws_max_channels: Annotated[int, Field(ge=1, le=100_000)] = 1_000
    access_log: bool = False
    migrate: bool = True

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_token", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def token(self) -> str | None:
        """The write token in clear, for the one comparison that needs it."""
        return self.api_token.get_secret_value() if self.api_token is not None else None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach."""
    if host.strip().lower() in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Refuse to listen beyond this machine while writes are not protected by a token."""
    if not is_loopback(settings.host) and settings.token is None:
        raise SettingsError(
            f"GATEWAY_HOST={settings.host} is reachable from other machines, so the gateway "
            "refuses to start without a write token: set SWINGFLOW_API_TOKEN, or bind "
            "GATEWAY_HOST=127.0.0.1"
        )

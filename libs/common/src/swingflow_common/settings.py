"""Infrastructure settings read from the environment (pydantic-settings).

The strategy lives in `swing_config.json` (see `config.py`); this module holds only where
things are: NATS, the database, the config file, the log level and the metrics port.

`CommonSettings` is the base every service subclasses with its own `env_prefix`:

    class Settings(CommonSettings):
        model_config = SettingsConfigDict(env_prefix="SCANNER_")
        batch_size: int = 100            # read from SCANNER_BATCH_SIZE

    settings = load_settings(Settings)

The shared variables (`NATS_URL`, `DATABASE_URL`, `SWINGFLOW_CONFIG`, `LOG_LEVEL`) keep
their plain names in every service, because every process of one platform talks to the
same NATS and database. `METRICS_PORT` follows the prefix (`SCANNER_METRICS_PORT`), because
processes on one machine each need their own port. `load_settings` turns a bad value into
a `SettingsError` whose message names the environment variable, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/swingflow.db"

_NATS_SCHEMES = ("nats://", "tls://", "ws://", "wss://")
_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


class SettingsError(ValueError):
    """A bad environment variable; the message names each variable and what is wrong."""


class CommonSettings(BaseSettings):
    """Where the infrastructure is. Subclass it per service with an `env_prefix`."""

    model_config = SettingsConfigDict(
        env_prefix="",
        extra="ignore",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    nats_url: Annotated[str, Field(validation_alias="NATS_URL")] = DEFAULT_NATS_URL
    database_url: Annotated[str, Field(validation_alias="DATABASE_URL")] = DEFAULT_DATABASE_URL
    swingflow_config: Annotated[Path, Field(validation_alias="SWINGFLOW_CONFIG")] = Path(
        "swing_config.json"
    )
    log_level: Annotated[LogLevel, Field(validation_alias="LOG_LEVEL")] = "INFO"
    metrics_port: Annotated[int | None, Field(ge=1, le=65535)] = None

    @field_validator("nats_url")
    @classmethod
    def _check_nats_url(cls, value: str) -> str:
        servers = [part.strip() for part in value.split(",") if part.strip()]
        if not servers or not all(s.startswith(_NATS_SCHEMES) for s in servers):
            raise ValueError("must be nats://host:port, or a comma-separated list of them")
        return ",".join(servers)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(_DATABASE_SCHEMES):
            raise ValueError("must be a sqlite or postgresql URL")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def nats_servers(self) -> list[str]:
        """The NATS servers as a list, the form both nats-py and FastStream accept."""
        return self.nats_url.split(",")


def env_name(settings_cls: type[BaseSettings], field: str) -> str:
    """The environment variable a settings field is read from."""
    info = settings_cls.model_fields[field]
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    return f"{prefix}{field}".upper()


S = TypeVar("S", bound=BaseSettings)


def load_settings(settings_cls: type[S]) -> S:
    """Read `settings_cls` from the environment; a bad value raises `SettingsError`."""
    try:
        return settings_cls()
    except ValidationError as exc:
        by_alias = {
            (info.validation_alias if isinstance(info.validation_alias, str) else name): name
            for name, info in settings_cls.model_fields.items()
        }
        problems = []
        for error in exc.errors():
            loc = str(error["loc"][0]) if error["loc"] else ""
            field = by_alias.get(loc, loc)
            variable = env_name(settings_cls, field) if field in settings_cls.model_fields else loc
            problems.append(f"{variable}: {error['msg']} (got {error.get('input')!r})")
        raise SettingsError("bad environment: " + "; ".join(problems)) from None

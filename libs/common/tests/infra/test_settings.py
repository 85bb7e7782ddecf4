"""Settings from the environment: shared names, service prefixes, errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import SettingsConfigDict

from swingflow_common.settings import CommonSettings, SettingsError, load_settings


class ScannerSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="SCANNER_")
    batch_size: int = 100


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NATS_URL", "DATABASE_URL", "SWINGFLOW_CONFIG", "LOG_LEVEL", "METRICS_PORT",
                 "SCANNER_METRICS_PORT", "SCANNER_BATCH_SIZE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_defaults_point_at_a_local_platform() -> None:
    settings = load_settings(CommonSettings)
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.database_url == "sqlite+aiosqlite:///var/swingflow.db"
    assert settings.swingflow_config == Path("swing_config.json")
    assert settings.log_level == "INFO"
    assert settings.metrics_port is None


def test_shared_variables_keep_their_plain_names_in_a_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NATS_URL", "nats://a:4300, nats://b:4300")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db/swingflow")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("METRICS_PORT", "9000")
    monkeypatch.setenv("SCANNER_METRICS_PORT", "9101")
    monkeypatch.setenv("SCANNER_BATCH_SIZE", "25")

    settings = load_settings(ScannerSettings)

    assert settings.nats_servers == ["nats://a:4300", "nats://b:4300"]
    assert settings.database_url == "postgresql+asyncpg://u@db/swingflow"
    assert settings.log_level == "DEBUG"
    assert settings.metrics_port == 9101
    assert settings.batch_size == 25


@pytest.mark.parametrize(
    ("variable", "value", "settings_class"),
    [
        ("NATS_URL", "http://127.0.0.1:4222", CommonSettings),
        ("DATABASE_URL", "mysql://x", CommonSettings),
        ("LOG_LEVEL", "LOUD", CommonSettings),
        ("METRICS_PORT", "abc", CommonSettings),
        ("SCANNER_METRICS_PORT", "70000", ScannerSettings),
        ("SCANNER_BATCH_SIZE", "many", ScannerSettings),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    settings_class: type[CommonSettings],
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_class)
    message = str(raised.value)
    assert message.startswith(f"bad environment: {variable}: ")
    assert repr(value) in message


def test_settings_can_be_built_in_code_by_field_name() -> None:
    settings = CommonSettings(nats_url="nats://127.0.0.1:4999", metrics_port=9200)
    assert (settings.nats_url, settings.metrics_port) == ("nats://127.0.0.1:4999", 9200)

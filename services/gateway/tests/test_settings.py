"""Settings: the bind rule, the hidden token, the environment variables read."""

from __future__ import annotations

from typing import Any

import pytest

from swingflow_common.settings import SettingsError, load_settings
from swingflow_gateway import app as app_module
from swingflow_gateway.app import create_app
from swingflow_gateway.settings import Settings, is_loopback

from .helpers import TOKEN


def test_create_app_refuses_an_open_address_without_a_token(make_settings: Any) -> None:
    settings = make_settings("sqlite:///x.db", host="0.0.0.0", api_token=None)
    with pytest.raises(SettingsError, match="SWINGFLOW_API_TOKEN"):
        create_app(settings)


def test_main_refuses_to_start_on_0000_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
    monkeypatch.delenv("SWINGFLOW_API_TOKEN", raising=False)
    started: list[Any] = []
    monkeypatch.setattr(app_module.uvicorn, "run", lambda *a, **k: started.append(a))
    with pytest.raises(SystemExit) as stop:
        app_module.main()
    assert stop.value.code == 2
    assert "GATEWAY_HOST=0.0.0.0" in capsys.readouterr().err
    assert started == []


def test_an_open_address_with_a_token_is_allowed(make_settings: Any) -> None:
    settings = make_settings("sqlite:///x.db", host="0.0.0.0")
    assert create_app(settings, warm_up=False).title == "swingflow gateway"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.0.2.7", False),
     ("gateway.example", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_settings_read_the_environment_and_hide_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWINGFLOW_API_TOKEN", TOKEN)
    monkeypatch.setenv("GATEWAY_PORT", "8123")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "http://a.test, http://b.test")
    monkeypatch.setenv("GATEWAY_METRICS_PORT", "9108")
    settings = load_settings(Settings)
    assert (settings.port, settings.metrics_port) == (8123, 9108)
    assert settings.cors_origins == ["http://a.test", "http://b.test"]
    assert settings.token == TOKEN
    assert settings.host == "127.0.0.1"
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


def test_a_blank_token_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWINGFLOW_API_TOKEN", "  ")
    assert load_settings(Settings).token is None


def test_a_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "eighty")
    with pytest.raises(SettingsError, match="GATEWAY_PORT"):
        load_settings(Settings)

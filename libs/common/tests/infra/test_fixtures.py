"""The infrastructure fixtures skip on a developer's machine and fail under CI=true."""

from __future__ import annotations

import pytest

from swingflow_common.testing import create_postgres_database, unavailable

CLOSED = "postgresql+asyncpg://postgres@127.0.0.1:1/test"  # nothing listens on port 1


def test_missing_postgres_skips_on_a_laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TEST_DATABASE_URL", CLOSED)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL unavailable at"):
        create_postgres_database()


def test_missing_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TEST_DATABASE_URL", CLOSED)
    with pytest.raises(pytest.fail.Exception, match="CI=true: required"):
        create_postgres_database()


def test_unavailable_reads_ci_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "TRUE")
    with pytest.raises(pytest.fail.Exception):
        unavailable("nats-server missing")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        unavailable("nats-server missing")


def test_a_test_without_real_services_is_not_marked_integration(
    request: pytest.FixtureRequest,
) -> None:
    assert request.node.get_closest_marker("integration") is None


def test_a_test_using_postgres_is_marked_integration(
    request: pytest.FixtureRequest, postgres_url: str
) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    assert request.node.get_closest_marker("integration") is not None

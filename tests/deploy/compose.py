"""Reading docker-compose.yml the way `docker compose` does, for the deploy tests:
YAML with merge keys, then `${VAR}`, `${VAR:-default}` and `${VAR:?error}` substituted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
INFRA = ("nats", "postgres", "migrate", "prometheus", "grafana")
_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


class MissingVariableError(KeyError):
    """A `${VAR:?message}` whose variable is unset, as `docker compose` would refuse."""


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def interpolate(value: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        current = env.get(name, "")
        if op == ":?" and not current:
            raise MissingVariableError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        return current

    return _VAR.sub(one, value)


def environment(service: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def host_ports(service: dict[str, Any]) -> list[tuple[str, int]]:
    """(host address, host port) of each published port."""
    published = []
    for spec in service.get("ports") or ():
        parts = str(spec).split(":")
        host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        published.append((host_ip, int(parts[-2])))
    return published

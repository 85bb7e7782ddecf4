"""WebSocket channels: their names, and which channel each NATS message goes to.

Pure functions, no I/O. A channel is `signals`, `allocations`, `fills`, `models`,
`weights`, `jobs`, `bars:<SYM>`, `bars:*` or `ticks:<SYM>` (docs/api.md); `system` is always on.
A message is routed by its `type`, and only when it came on the subject that type
belongs to (a bar published on `signals.x` is not a signal), so a client never gets a
message on the wrong channel.
"""

from __future__ import annotations

import json
import re
from typing import Any

from swingflow_common import subjects
from swingflow_common.messages import Message

SYSTEM = "system"
FIXED: tuple[str, ...] = ("signals", "allocations", "fills", "models", "weights", "jobs")
BARS_ALL = "bars:*"
OFFERED: tuple[str, ...] = (*FIXED, "bars:<SYM>", BARS_ALL, "ticks:<SYM>")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._\-]{0,15}")

# message type -> (the subject pattern it must arrive on, the channel kind)
ROUTES: dict[str, tuple[str, str]] = {
    "bar": (subjects.BARS_ALL, "bars"),
    "tick": (subjects.TICKS_ALL, "ticks"),
    "candidate_signal": (subjects.CANDIDATES_ALL, "signals"),
    "confirmed_signal": (subjects.CONFIRMED_ALL, "signals"),
    "allocation": (subjects.ALLOCATIONS, "allocations"),
    "fill": (subjects.FILLS, "fills"),
    "model_updated": (subjects.ML_MODELS_UPDATED, "models"),
    "weights_updated": (subjects.CONFIG_WEIGHTS_UPDATED, "weights"),
    "job_progress": (subjects.JOBS_PROGRESS, "jobs"),  # from the gateway's own jobs
}
SUBSCRIBED_SUBJECTS: tuple[str, ...] = (
    subjects.BARS_ALL,
    subjects.TICKS_ALL,
    subjects.SIGNALS_ALL,
    subjects.PORTFOLIO_ALL,
    subjects.ML_MODELS_UPDATED,
    subjects.CONFIG_WEIGHTS_UPDATED,
)


def parse_channel(name: object) -> str:
    """The canonical form of a channel name a client sent; ValueError saying why not."""
    if not isinstance(name, str):
        raise ValueError(f"channel names are strings, got {type(name).__name__}")
    text = name.strip()
    if text.lower() in FIXED:
        return text.lower()
    kind, sep, symbol = text.partition(":")
    kind = kind.lower()
    if sep and kind == "bars" and symbol == "*":
        return BARS_ALL
    if sep and kind in ("bars", "ticks"):
        symbol = symbol.upper()
        if _SYMBOL.fullmatch(symbol):
            return f"{kind}:{symbol}"
        raise ValueError(f"{name!r}: a symbol is 1-16 letters, digits, '.', '_' or '-'")
    raise ValueError(f"{name!r} is not a channel; channels: {', '.join(OFFERED)}")


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match: `*` is one token, a trailing `>` one or more tokens."""
    want, have = pattern.split("."), subject.split(".")
    if want[-1] == ">":
        head = want[:-1]
        return len(have) > len(head) and all(
            w in ("*", h) for w, h in zip(head, have, strict=False)
        )
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have, strict=True))


def channels_for(subject: str, message: Message) -> tuple[str, ...]:
    """The channels a message goes to, most specific first; () when it goes nowhere."""
    kind_type: str = getattr(message, "type", "")
    route = ROUTES.get(kind_type)
    if route is None or not subject_matches(route[0], subject):
        return ()
    kind = route[1]
    if kind == "bars":
        return (f"bars:{getattr(message, 'symbol', '')}", BARS_ALL)
    if kind == "ticks":
        return (f"ticks:{getattr(message, 'symbol', '')}",)
    return (kind,)


def envelope(channel: str, kind: str, data_json: str) -> str:
    """The frame text `{"channel", "type", "data"}` around an already serialized message."""
    return f'{{"channel":{json.dumps(channel)},"type":{json.dumps(kind)},"data":{data_json}}}'


def system(kind: str, data: dict[str, Any] | None = None) -> str:
    """A frame of the always-on `system` channel."""
    return json.dumps({"channel": SYSTEM, "type": kind, "data": data or {}})

"""Bytes to a Bar or a Tick, or the reason they are refused (for the dead-letter queue).

On top of the message's own validation: the symbol must be the one of the subject, a
bar on `md.bars` must be a Bar (a tick there is refused), and only daily bars are analyzed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from nats.aio.msg import Msg
from pydantic import ValidationError

from swingflow_common import subjects
from swingflow_common.bus import ReasonKind, describe
from swingflow_common.bus.dead_letter import kind_of
from swingflow_common.messages import Bar, Message, Tick, decode

M = TypeVar("M", Bar, Tick)


@dataclass(frozen=True)
class Rejected:
    reason: str
    kind: ReasonKind


def decode_as(msg: Msg, expected: type[M]) -> M | Rejected:
    """The message as `expected`, or why it cannot be used."""
    try:
        message: Message = decode(msg.data)
    except ValidationError as exc:
        return Rejected(describe(exc), kind_of(exc))
    if not isinstance(message, expected):
        got = type(message).__name__
        return Rejected(
            f"expected a {expected.__name__} on {msg.subject}, got {got}", "unexpected_type"
        )
    if subjects.token(message.symbol) != subjects.symbol_from_subject(msg.subject):
        return Rejected(
            f"symbol {message.symbol} does not match subject {msg.subject}", "invalid_message"
        )
    if isinstance(message, Bar) and message.interval != "1d":
        return Rejected(
            f"interval {message.interval}: the scanner analyzes daily bars only", "invalid_message"
        )
    return message

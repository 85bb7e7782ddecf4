"""Channel names and routing (pure functions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from swingflow_common import subjects
from swingflow_common.messages import Bar, Tick, WeightsUpdated
from swingflow_gateway.ws.channels import channels_for, envelope, parse_channel, subject_matches

from .factories import allocation, candidate

TS = datetime(2024, 3, 1, tzinfo=UTC)
BAR = Bar(symbol="BRK.B", ts=TS, open=10, high=11, low=9, close=10.5, volume=100)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("signals", "signals"), (" Signals ", "signals"), ("bars:aapl", "bars:AAPL"),
     ("BARS:brk.b", "bars:BRK.B"), ("bars:*", "bars:*"), ("ticks:msft", "ticks:MSFT"),
     ("weights", "weights")],
)  # fmt: skip
def test_channel_names_are_canonicalized(name: str, canonical: str) -> None:
    assert parse_channel(name) == canonical


@pytest.mark.parametrize("name", ["", "bars", "bars:", "ticks:*", "news", "bars:A B", 7, None])
def test_bad_channel_names_are_refused_with_a_reason(name: object) -> None:
    with pytest.raises(ValueError, match=r"channel|symbol"):
        parse_channel(name)


def test_a_bar_goes_to_its_symbol_channel_and_the_wildcard() -> None:
    assert channels_for(subjects.bars("BRK.B"), BAR) == ("bars:BRK.B", "bars:*")


def test_each_message_goes_to_its_channel_only_from_its_own_subject() -> None:
    tick = Tick(symbol="AAPL", ts=TS, price=10, size=5)
    weights = WeightsUpdated(weights={"base_signal": 1.0})
    assert channels_for(subjects.ticks("AAPL"), tick) == ("ticks:AAPL",)
    assert channels_for(subjects.candidates("AAPL"), candidate("AAPL", 1)) == ("signals",)
    assert channels_for(subjects.ALLOCATIONS, allocation(1)) == ("allocations",)
    assert channels_for(subjects.CONFIG_WEIGHTS_UPDATED, weights) == ("weights",)
    assert channels_for(subjects.confirmed("AAPL"), BAR) == ()  # a bar on a signal subject
    assert channels_for(subjects.FILLS, allocation(1)) == ()


def test_subject_wildcards() -> None:
    assert subject_matches("md.bars.*", "md.bars.AAPL")
    assert not subject_matches("md.bars.*", "md.bars.AAPL.x")
    assert subject_matches("signals.>", "signals.confirmed.AAPL")
    assert not subject_matches("signals.>", "signals")


def test_envelope_wraps_the_serialized_message_without_reparsing() -> None:
    frame = json.loads(envelope("bars:BRK.B", "bar", BAR.model_dump_json()))
    assert frame["channel"] == "bars:BRK.B"
    assert frame["type"] == "bar"
    assert Bar.model_validate(frame["data"]) == BAR

"""Publishing with the deterministic Nats-Msg-Id: a republished message is dropped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nats.js import JetStreamContext
from nats.js.errors import APIError
from prometheus_client import REGISTRY

from swingflow_common import subjects
from swingflow_common.bus import MSG_ID_HEADER, PublishBatch, ensure_streams, msg_id, publish
from swingflow_common.messages import Bar, CandidateSignal, ConfirmedSignal, StageScore, Tick

TS = datetime(2024, 3, 1, tzinfo=UTC)


def bar(close: float = 179.66) -> Bar:
    return Bar(symbol="AAPL", ts=TS, open=179.55, high=180.53, low=177.38, close=close,
               volume=73488000)  # fmt: skip


def candidate() -> CandidateSignal:
    base = StageScore(stage="base_signal", score=0.8, passed=True, reason="pullback to ema 20")
    return CandidateSignal(id="AAPL-20240301-trend_pullback", symbol="AAPL", ts=TS,
                           setup="trend_pullback", close=179.66, atr=3.1, base=base,
                           features={"rsi_14": 48.2})  # fmt: skip


def confirmed(of: CandidateSignal) -> ConfirmedSignal:
    return ConfirmedSignal(id=of.id, symbol=of.symbol, ts=of.ts, setup=of.setup, entry=179.66,
                           stop=173.46, target=188.96, stages=(of.base,),
                           weights={"base_signal": 1.0}, total=0.8, threshold=0.6,
                           reason="all stages passed")  # fmt: skip


def test_msg_id_is_deterministic_and_typed() -> None:
    assert msg_id(bar()) == "bar:AAPL-20240301T0000-1d"
    assert msg_id(bar(close=180.0)) == msg_id(bar())
    assert msg_id(candidate()) == "candidate_signal:AAPL-20240301-trend_pullback"
    assert msg_id(confirmed(candidate())) == "confirmed_signal:AAPL-20240301-trend_pullback"
    tick = Tick(symbol="AAPL", ts=TS, price=179.6, size=100)
    assert msg_id(tick) is None


async def test_same_bar_published_twice_is_stored_once(js: JetStreamContext) -> None:
    await ensure_streams(js)

    first = await publish(js, subjects.bars("AAPL"), bar())
    second = await publish(js, subjects.bars("AAPL"), bar())

    assert not first.duplicate
    assert second.duplicate is True
    assert second.seq == first.seq
    assert (await js.stream_info("MARKET")).state.messages == 1


async def test_stored_message_is_the_json_with_its_id_header(js: JetStreamContext) -> None:
    await ensure_streams(js)
    ack = await publish(js, subjects.bars("AAPL"), bar())

    stored = await js.get_msg("MARKET", ack.seq)

    assert Bar.model_validate_json(stored.data or b"") == bar()
    assert (stored.headers or {})[MSG_ID_HEADER] == msg_id(bar())


async def test_candidate_and_its_confirmation_are_both_kept(js: JetStreamContext) -> None:
    await ensure_streams(js)
    cand = candidate()

    acks = [await publish(js, subjects.candidates("AAPL"), cand),
            await publish(js, subjects.confirmed("AAPL"), confirmed(cand))]  # fmt: skip

    assert not any(ack.duplicate for ack in acks)
    assert acks[0].seq != acks[1].seq
    assert (await js.stream_info("SIGNALS")).state.messages == 2


async def test_ticks_have_no_id_and_are_never_deduplicated(js: JetStreamContext) -> None:
    await ensure_streams(js)
    tick = Tick(symbol="AAPL", ts=TS, price=179.6, size=100)
    await publish(js, subjects.ticks("AAPL"), tick)
    await publish(js, subjects.ticks("AAPL"), tick)
    assert (await js.stream_info("MARKET")).state.messages == 2


def _published(stream: str, duplicate: bool) -> float:
    labels = {"stream": stream, "duplicate": str(duplicate).lower()}
    return REGISTRY.get_sample_value("swingflow_published_messages_total", labels) or 0.0


def _candidate(symbol: str) -> CandidateSignal:
    return candidate().model_copy(update={"id": f"{symbol}-20240301-trend_pullback",
                                          "symbol": symbol})  # fmt: skip


async def test_a_publish_batch_keeps_the_order_ids_and_metrics_of_one_by_one(
    js: JetStreamContext,
) -> None:
    await ensure_streams(js)
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN"]
    fresh, dropped = _published("SIGNALS", False), _published("SIGNALS", True)

    batch = PublishBatch(js)
    for symbol in symbols:
        await batch.add(subjects.candidates(symbol), _candidate(symbol))
    first = await batch.confirm()
    for symbol in symbols:  # the same messages again: every one a duplicate
        await batch.add(subjects.candidates(symbol), _candidate(symbol))
    again = await batch.confirm()

    assert [ack.seq for ack in first] == sorted(ack.seq for ack in first)  # stored in order
    assert len({ack.seq for ack in first}) == len(symbols)
    assert not any(ack.duplicate for ack in first)
    assert [ack.seq for ack in again] == [ack.seq for ack in first]
    assert all(ack.duplicate for ack in again)
    assert len(batch) == 0
    stored = [await js.get_msg("SIGNALS", ack.seq) for ack in first]
    assert [CandidateSignal.model_validate_json(m.data or b"").symbol for m in stored] == symbols
    assert [(m.headers or {})[MSG_ID_HEADER] for m in stored] == [
        msg_id(_candidate(s)) for s in symbols
    ]
    assert _published("SIGNALS", False) - fresh == len(symbols)
    assert _published("SIGNALS", True) - dropped == len(symbols)


async def test_a_publish_batch_raises_when_one_of_its_messages_is_refused(
    js: JetStreamContext,
) -> None:
    await ensure_streams(js)
    batch = PublishBatch(js, ack_timeout=0.5)
    await batch.add(subjects.candidates("AAPL"), _candidate("AAPL"))
    payload = _candidate("MSFT").model_dump_json().encode()
    await batch.add_bytes(subjects.candidates("MSFT"), payload, stream="MARKET")  # wrong stream

    # nats-py 2.16 logs the error reply of an async publish instead of handing it to the
    # future, so the refusal surfaces as the ack's timeout; a fixed client raises APIError
    with pytest.raises((APIError, TimeoutError)):
        await batch.confirm()

    assert len(batch) == 0
    assert (await js.stream_info("SIGNALS")).state.messages == 1  # the good one went out

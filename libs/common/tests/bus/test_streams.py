"""JetStream streams and buckets: declared once, idempotently, from subjects.STREAMS."""

from __future__ import annotations

import pytest
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from swingflow_common import subjects
from swingflow_common.bus import ensure_streams, stream_config, stream_for
from swingflow_common.bus.streams import DUPLICATE_WINDOW


async def test_ensure_streams_twice_keeps_one_identical_config(js: JetStreamContext) -> None:
    first = {str(info.config.name): info.config for info in await ensure_streams(js)}
    second = {str(info.config.name): info.config for info in await ensure_streams(js)}

    assert set(first) == {spec.name for spec in subjects.STREAMS}
    assert first == second
    names = [str(info.config.name) for info in await js.streams_info()]
    assert sorted(names) == sorted([*first, "KV_analysis", "KV_weights", "KV_feed"])


async def test_streams_are_file_backed_with_a_duplicate_window(js: JetStreamContext) -> None:
    await ensure_streams(js)
    for spec in subjects.STREAMS:
        config = (await js.stream_info(spec.name)).config
        assert config.storage == StorageType.FILE
        assert config.duplicate_window == DUPLICATE_WINDOW >= 120
        assert sorted(config.subjects or ()) == sorted(spec.subjects)


async def test_scan_jobs_stream_is_a_work_queue(js: JetStreamContext) -> None:
    await ensure_streams(js)
    assert (await js.stream_info("SCAN")).config.retention == RetentionPolicy.WORK_QUEUE
    assert (await js.stream_info("SIGNALS")).config.retention == RetentionPolicy.LIMITS


async def test_a_drifted_stream_is_brought_back_to_its_config(js: JetStreamContext) -> None:
    market = next(spec for spec in subjects.STREAMS if spec.name == "MARKET")
    await js.add_stream(StreamConfig(name="MARKET", subjects=["md.bars.*"], duplicate_window=5))

    await ensure_streams(js)

    config = (await js.stream_info("MARKET")).config
    assert sorted(config.subjects or ()) == sorted(market.subjects)
    assert config.duplicate_window == stream_config(market).duplicate_window


async def test_key_value_buckets_exist_and_keep_values(js: JetStreamContext) -> None:
    await ensure_streams(js)
    weights = await js.key_value(subjects.WEIGHTS_BUCKET)
    await weights.put("current", b'{"base_signal": 0.3}')
    await ensure_streams(js)
    entry = await (await js.key_value(subjects.WEIGHTS_BUCKET)).get("current")
    assert entry.value == b'{"base_signal": 0.3}'
    assert (await js.key_value(subjects.ANALYSIS_BUCKET)).__class__.__name__ == "KeyValue"


@pytest.mark.parametrize(
    ("subject", "stream"),
    [
        (subjects.bars("BRK.B"), "MARKET"),
        (subjects.ticks("AAPL"), "MARKET"),
        (subjects.candidates("AAPL"), "SIGNALS"),
        (subjects.confirmed("AAPL"), "SIGNALS"),
        (subjects.FILLS, "PORTFOLIO"),
        (subjects.SCAN_JOBS, "SCAN"),
        (subjects.dlq("scanner"), "DLQ"),
    ],
)
def test_stream_for_names_the_stream_that_stores_a_subject(subject: str, stream: str) -> None:
    assert stream_for(subject) == stream


def test_stream_for_refuses_a_core_nats_subject() -> None:
    with pytest.raises(KeyError, match="no JetStream stream"):
        stream_for(subjects.ML_PREDICT)

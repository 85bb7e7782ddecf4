"""The JetStream streams and key-value buckets, declared from `subjects.STREAMS`.

`ensure_streams(js)` is idempotent: every service may call it at start-up, in any order,
any number of times. It creates what is missing and updates a stream whose configuration
drifted from the one here, so this module is the one place stream settings are set.

Why these settings:
- file storage, so a restart of nats-server loses nothing;
- a 2-minute duplicate window, so a message republished with the same `Nats-Msg-Id`
  (a redelivery, a replay, a retry after a lost ack) is dropped by the server;
- `SCAN` is a work queue: a job is removed once a scanner replica acks it;
- `MARKET` keeps 7 days and `DLQ` 30 days: the database is the history of record.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from nats.js.errors import BucketNotFoundError, NotFoundError

from swingflow_common import subjects

DUPLICATE_WINDOW = 120.0  # seconds
DAY = 86_400.0
MAX_AGE: dict[str, float] = {"MARKET": 7 * DAY, "DLQ": 30 * DAY}
KV_HISTORY: dict[str, int] = {
    subjects.ANALYSIS_BUCKET: 1,
    subjects.WEIGHTS_BUCKET: 5,
    subjects.FEED_BUCKET: 1,
}


def stream_config(spec: subjects.StreamSpec) -> StreamConfig:
    """The JetStream configuration of one stream of `subjects.STREAMS`."""
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.WORK_QUEUE if spec.work_queue else RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW,
        max_age=MAX_AGE.get(spec.name),
    )


def _drifted(current: StreamConfig, wanted: StreamConfig) -> bool:
    return (
        sorted(current.subjects or ()) != sorted(wanted.subjects or ())
        or current.retention != wanted.retention
        or current.storage != wanted.storage
        or current.duplicate_window != wanted.duplicate_window
        or (current.max_age or 0.0) != (wanted.max_age or 0.0)
    )


async def ensure_streams(js: JetStreamContext) -> list[StreamInfo]:
    """Create or update every stream and key-value bucket; safe to call repeatedly."""
    infos = []
    for spec in subjects.STREAMS:
        wanted = stream_config(spec)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            info = await js.add_stream(wanted)
        else:
            if _drifted(info.config, wanted):
                info = await js.update_stream(wanted)
        infos.append(info)
    for bucket, history in KV_HISTORY.items():
        try:
            await js.key_value(bucket)
        except BucketNotFoundError:
            await js.create_key_value(
                KeyValueConfig(bucket=bucket, history=history, storage=StorageType.FILE)
            )
    return infos


def stream_for(subject: str) -> str:
    """The name of the stream that stores `subject`; KeyError when none does."""
    for spec in subjects.STREAMS:
        for pattern in spec.subjects:
            if _matches(pattern, subject):
                return spec.name
    raise KeyError(f"no JetStream stream stores subject {subject!r}")


def _matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match: `*` is one token, a trailing `>` is one or more tokens."""
    want, have = pattern.split("."), subject.split(".")
    if want[-1] == ">":
        return len(have) >= len(want) and all(
            w in ("*", h) for w, h in zip(want[:-1], have, strict=False)
        )
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have, strict=True))

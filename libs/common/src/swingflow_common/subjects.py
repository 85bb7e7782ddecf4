"""Every NATS subject, stream, queue group and key-value bucket, defined once.

No other module spells a subject as a string literal: call these functions instead.
Symbols are upper case, and a `.` inside a symbol becomes `_` in a subject token
(`BRK.B` -> `md.bars.BRK_B`), because `.` separates subject tokens.
"""

from __future__ import annotations

from dataclasses import dataclass


def token(symbol: str) -> str:
    """The subject token for a symbol: upper case, `.` replaced by `_`."""
    return symbol.strip().upper().replace(".", "_")


def bars(symbol: str) -> str:
    return f"md.bars.{token(symbol)}"


def ticks(symbol: str) -> str:
    return f"md.ticks.{token(symbol)}"


def candidates(symbol: str) -> str:
    return f"signals.candidate.{token(symbol)}"


def confirmed(symbol: str) -> str:
    return f"signals.confirmed.{token(symbol)}"


def dlq(service: str) -> str:
    return f"dlq.{service}"


def symbol_from_subject(subject: str) -> str:
    """The last token of a per-symbol subject (still in its `_` form)."""
    return subject.rsplit(".", 1)[-1]


BARS_ALL = "md.bars.*"
TICKS_ALL = "md.ticks.*"
MARKET_ALL = "md.>"
CANDIDATES_ALL = "signals.candidate.*"
CONFIRMED_ALL = "signals.confirmed.*"
SIGNALS_ALL = "signals.>"
ALLOCATIONS = "portfolio.allocations"
FILLS = "portfolio.fills"
PORTFOLIO_ALL = "portfolio.>"
ML_PREDICT = "ml.predict"
ML_MODELS_UPDATED = "ml.models.updated"
ML_ALL = "ml.>"
CONFIG_WEIGHTS_UPDATED = "config.weights.updated"
SCAN_JOBS = "scan.jobs"
DLQ_ALL = "dlq.>"
JOBS_PROGRESS = "jobs.progress"  # JobProgress of the gateway's background jobs (core NATS)

SCANNER_QUEUE = "scanner"

# JetStream key-value buckets for hot state shared between services.
ANALYSIS_BUCKET = "analysis"  # latest analysis per symbol (key: symbol token)
WEIGHTS_BUCKET = "weights"  # the current integration weights (key: "current")
FEED_BUCKET = "feed"  # the feed's replay cursor (key: the dataset, value: last date published)
LEADER_BUCKET = "leaders"  # who holds a single-active role (key: the role; entries expire)


def kv_key(bucket: str, key: str) -> str:
    """The subject a key-value bucket stores `key` under (NATS's `$KV.<bucket>.<key>`), for
    a writer that publishes to it directly instead of through `KeyValue.put`."""
    return f"$KV.{bucket}.{key}"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    work_queue: bool = False


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("MARKET", (MARKET_ALL,)),
    StreamSpec("SIGNALS", (SIGNALS_ALL,)),
    StreamSpec("PORTFOLIO", (PORTFOLIO_ALL,)),
    StreamSpec("SCAN", (SCAN_JOBS,), work_queue=True),
    StreamSpec("DLQ", (DLQ_ALL,)),
)

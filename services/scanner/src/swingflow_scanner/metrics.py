"""The scanner's Prometheus metrics (on the process's default registry).

Dead letters are counted by the shared `swingflow_dlq_messages_total{service="scanner"}`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BARS = Counter(
    "swingflow_scanner_bars",
    "Bar messages by outcome: new, corrected, duplicate, out_of_order, invalid.",
    ["outcome"],
)
ANALYSES = Counter("swingflow_scanner_analyses", "Feature analyses run (one per symbol window).")
CANDIDATES = Counter("swingflow_scanner_candidates", "Candidates published, by setup.", ["setup"])
BATCH_SECONDS = Histogram(
    "swingflow_scanner_batch_seconds",
    "Time to handle one fetched batch of bars, storage and publishing included.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
BATCH_MESSAGES = Histogram(
    "swingflow_scanner_batch_messages",
    "Messages in one fetched batch of bars.",
    buckets=(1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 50_000),
)
LAST_BAR = Gauge(
    "swingflow_scanner_last_bar_timestamp_seconds", "Open time of the latest bar taken in."
)
SYMBOLS = Gauge("swingflow_scanner_symbols", "Symbols held in memory, by ownership.", ["owned"])
BATCH_FAILURES = Counter(
    "swingflow_scanner_batch_failures", "Batches nacked after storing or publishing failed."
)
JOBS = Counter("swingflow_scanner_jobs", "Scan jobs handled, by outcome.", ["outcome"])
TICKS = Counter(
    "swingflow_scanner_ticks",
    "Tick messages by outcome: aggregated, outside_session, late, invalid.",
    ["outcome"],
)
BARS_BUILT = Counter("swingflow_scanner_bars_built", "Daily bars built from ticks and published.")
LATEST_FINISHED = Counter(
    "swingflow_scanner_latest_finished",
    "Latest analyses left at the setup tier, completed with every module while bars were quiet.",
)

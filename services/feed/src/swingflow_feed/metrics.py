"""The feed's Prometheus metrics (on the process's default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BARS_PUBLISHED = Counter(
    "swingflow_feed_bars_published",
    "Bars the feed published, by whether the server dropped them as duplicates.",
    ["duplicate"],
)
BARS_SKIPPED = Counter(
    "swingflow_feed_bars_skipped", "Dataset rows that failed Bar validation and were skipped."
)
DAYS_PUBLISHED = Counter("swingflow_feed_days_published", "Days of bars fully published.")
REPLAY_DATE = Gauge(
    "swingflow_feed_replay_date_seconds",
    "The date of the last day fully published, as a Unix timestamp.",
)
REPLAY_PROGRESS = Gauge(
    "swingflow_feed_replay_progress", "Fraction of the dataset's days published (0..1)."
)
FINISHED = Gauge("swingflow_feed_finished", "1 once the whole dataset has been published.")
BACKPRESSURE_SECONDS = Counter(
    "swingflow_feed_backpressure_wait_seconds",
    "Time spent waiting for the consumers to catch up before publishing a day.",
)
WAITING = Gauge(
    "swingflow_feed_waiting_for_consumers",
    "1 while the feed holds the next day back because a consumer is behind (backpressure).",
)
